"""`grade report`: numbers against a hand-computed class, files, determinism, escaping, bad input.

The six students of tests/classreport_fixture.py, worked out by hand:

  total scores 15, 7.5, 5, 12.5, 5, 5 -> mean 50/6 = 8.3333, median (5 + 7.5)/2 = 6.25,
  quartiles (inclusive) 5 and 7.5 + 0.75 * 5 = 11.25.
  Check A: attempted by the 5 whose exercise 1 was tried (s5 left the stub), all passed:
    difficulty 1.0, discrimination n/a (passing does not vary), flag "too easy".
  Check B: passed by s1, s3, s6 -> 3/5 = 0.6. Rest of the score (total - B's points):
    12.5, 7.5, 2.5, 12.5, 2.5 against 1, 0, 1, 0, 1: covariance sum -5, sxx 1.2, syy 100
    -> r = -5 / sqrt(120) = -0.4564, flag "negative discrimination".
  Check C (s6's exercise 3 is missing): passed 4/5 = 0.8; rest 10, 2.5, 5, 7.5, 0 -> r = 0, "low discrimination".
  Check D: passed s1, s4 -> 0.4, one error (20% -> "errors"); rest 10, 7.5, 5, 7.5, 5 -> r = 3.5/sqrt(21) = 0.7638.
  Mistakes: sum_instead_of_mean in 2 of the 5 that tried exercise 1 (0.4); bias_forgotten 1 of 5.
  Unnamed: D "expected # got #" twice (a candidate mistake), D's error once.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markupsafe import escape
from typer.testing import CliRunner

from grader import classreport
from grader.cli.app import app
from tests import classreport_fixture as fx

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data() -> dict:
    return classreport.build(fx.reports())


def _check(data: dict, ex_id: int, cid: str) -> dict:
    ex = next(e for e in data["exercises"] if e["id"] == ex_id)
    return next(c for c in ex["checks"] if c["id"] == cid)


def test_the_numbers_are_the_hand_computed_ones(data):
    assert data["submissions"] == 6 and data["max_score"] == 15
    t = data["total"]
    assert (t["mean"], t["median"], t["q1"], t["q3"], t["min"], t["max"]) == (8.3333, 6.25, 5.0, 11.25, 5.0, 15.0)
    assert sum(h[2] for h in t["histogram"]) == 6 and t["histogram"][-1] == [13.5, 15.0, 1]
    ex1, ex3 = data["exercises"]
    assert ex1["status_counts"] == {"passed": 3, "failed": 2, "error": 0, "missing": 0, "not_attempted": 1}
    assert ex3["status_counts"] == {"passed": 2, "failed": 3, "error": 0, "missing": 1, "not_attempted": 0}
    assert (ex1["mean"], ex1["median"]) == (3.3333, 3.75)

    a, b, c, d = (_check(data, 1, "A"), _check(data, 1, "B"), _check(data, 3, "C"), _check(data, 3, "D"))
    assert (a["attempted"], a["passed"], a["difficulty"], a["discrimination"], a["flags"]) == (5, 5, 1.0, None, ["too easy"])
    assert (b["passed"], b["failed"], b["difficulty"], b["discrimination"]) == (3, 2, 0.6, -0.4564)
    assert b["flags"] == ["negative discrimination"]
    assert (c["difficulty"], c["discrimination"], c["flags"]) == (0.8, 0.0, ["low discrimination"])
    assert (d["passed"], d["failed"], d["error"], d["difficulty"], d["discrimination"]) == (2, 2, 1, 0.4, 0.7638)
    assert d["flags"] == ["errors"]
    assert a["name"] == "The course example gives 715.6667", "checks are named by their titles"

    assert ex1["mistakes"] == [{"name": "sum_instead_of_mean", "count": 2, "share": 0.4, "checks": ["B"],
                                "check_names": ["Random vectors agree with Keras"],
                                "examples": ["Your loss for <submission> is 6x too large: did you sum?",
                                             "Your loss for <submission> is 3x too large: did you sum?"]}]
    assert [(m["name"], m["count"], m["share"]) for m in ex3["mistakes"]] == [("bias_forgotten", 1, 0.2)]
    assert [(g["check"], g["shape"], g["count"]) for g in ex3["unnamed_failures"]] == [
        ("D", "expected # got #", 2), ("D", "Your code raised ZeroDivisionError", 1)]


def test_the_page_shows_the_same_numbers_and_n_a_not_nan(data):
    page = classreport.render_html(data)
    visible = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
    assert not re.search(r"\bnan\b", visible, re.I), "a number that does not exist is n/a, never NaN"
    row = page[page.index('data-check="A"'):]
    row = row[:row.index("</tr>")]
    assert '<td class="num" data-k="difficulty">1.00</td>' in row and '<td class="num" data-k="discrimination">n/a</td>' in row
    assert "-0.46" in page and "0.76" in page and "11.25" in page
    for rule in data["flag_rules"]:
        assert str(escape(rule["rule"])) in page, "each flag's rule is printed"
    assert "<svg" in page and "<script src" not in page and "http://" not in page.split("<svg")[0]
    assert page.index('id="glance"') < page.index('id="checks"') < page.index('id="mistakes"') < page.index('id="students"')


def test_cli_writes_both_files_equal_to_the_api(tmp_path):
    results = fx.write_jsonl(tmp_path / "grades.jsonl")
    out = CliRunner().invoke(app, ["report", str(results), "--html", str(tmp_path / "c.html"), "--json", str(tmp_path / "c.json")])
    assert out.exit_code == 0, out.output
    assert json.loads((tmp_path / "c.json").read_text()) == json.loads(classreport.to_json(classreport.build(fx.reports())))
    assert (tmp_path / "c.html").read_text() == classreport.render_html(classreport.build(fx.reports()))


def _run_report(tmp_path: Path, hashseed: str, name: str) -> tuple[bytes, bytes]:
    results = tmp_path / "grades.jsonl"
    if not results.exists():
        fx.write_jsonl(results)
    env = {**os.environ, "PYTHONHASHSEED": hashseed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "grader", "report", str(results), "--html", str(tmp_path / f"{name}.html"),
                           "--json", str(tmp_path / f"{name}.json")], cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return (tmp_path / f"{name}.json").read_bytes(), (tmp_path / f"{name}.html").read_bytes()


def test_identical_files_across_runs_and_hash_seeds(tmp_path):
    first = _run_report(tmp_path, "0", "a")
    assert _run_report(tmp_path, "12345", "b") == first


HOSTILE = '<script>alert("id")</script>&amp;"\''


def test_hostile_ids_and_messages_are_escaped(tmp_path):
    reports = fx.reports()
    reports[0]["submission"] = HOSTILE
    reports[1]["exercises"][0]["checks"][1]["message"] = "<img src=x onerror=alert(1)> & </td>"
    reports[1]["exercises"][0]["checks"][1]["mistake"] = "<b>bold</b>"
    reports[2]["exercises"][1]["checks"][1]["message"] = "<iframe src='http://evil'></iframe> 3.0"
    reports[2]["exercises"][1]["checks"][0]["name"] = "<svg onload=alert(2)>"
    page = classreport.render_html(classreport.build(reports, roster={"s2": {"name": "<u>Bob</u>", "section": "<i>"}}))
    for raw in ("<script>alert", "<img src=x", "<b>bold</b>", "<iframe", "<svg onload", "<u>Bob</u>"):
        assert raw not in page, raw
    assert "&lt;script&gt;alert(" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<script>") == 1, "only the page's own sorting script"


def test_anonymise_leaks_no_id_in_either_file(tmp_path):
    ids = ["alice.smith-2024", "bob_o'neil", "c.dupont@uni.example", "dora", "eve99", "frank.zappa"]
    reports = fx.reports()
    for r, sid in zip(reports, ids):
        r["submission"] = sid
        for ex in r["exercises"]:
            for c in ex["checks"]:
                if c["message"]:
                    c["message"] = f"{c['message']} (graded for {sid}, see /home/{sid}/loss.py)"
    fx.write_jsonl(tmp_path / "g.jsonl", reports)
    roster = tmp_path / "roster.csv"
    roster.write_text("submission,name,section\n" + "".join(f"{sid},Name of {sid},A\n" for sid in ids))
    out = CliRunner().invoke(app, ["report", str(tmp_path / "g.jsonl"), "--html", str(tmp_path / "c.html"),
                                   "--json", str(tmp_path / "c.json"), "--anonymise", "--roster", str(roster)])
    assert out.exit_code == 0, out.output
    for f in ("c.html", "c.json"):
        text = (tmp_path / f).read_text()
        for sid in ids:
            assert sid not in text and sid.replace("'", "&#39;") not in text, (f, sid)
        assert "Name of" not in text
    data = json.loads((tmp_path / "c.json").read_text())
    assert sorted(s["submission"] for s in data["students"]) == [f"student-00{n}" for n in range(1, 7)]
    assert data["anonymised"] is True and data["total"]["mean"] == 8.3333


def test_roster_adds_names_and_sections(tmp_path):
    results = fx.write_jsonl(tmp_path / "g.jsonl")
    roster = tmp_path / "roster.csv"
    roster.write_text("submission,name,section\ns1,Ada Lovelace,Mon\ns2,Alan Turing,Tue\n")
    out = CliRunner().invoke(app, ["report", str(results), "--html", str(tmp_path / "c.html"), "--json",
                                   str(tmp_path / "c.json"), "--roster", str(roster)])
    assert out.exit_code == 0, out.output
    students = {s["submission"]: s for s in json.loads((tmp_path / "c.json").read_text())["students"]}
    assert (students["s1"]["name"], students["s2"]["section"], students["s3"]["name"]) == ("Ada Lovelace", "Tue", "")
    assert "Ada Lovelace" in (tmp_path / "c.html").read_text()


def _lines(*items: object) -> str:
    return "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in items)


@pytest.mark.parametrize("content, words", [
    ("", "is empty"),
    ("\n\n", "is empty"),
    ("submission,total\ns1,5\n", "looks like CSV"),
    (_lines({"schema_version": 2, "submission": "s1", "exercises": []}), "schema_version ['2']"),
    (_lines(fx.report("s1"), fx.report("s2"), fx.report("s1")), "'s1' appears twice (line 1 and line 3)"),
    (_lines({"a": 1}, [1, 2]), "no usable report"),
])
def test_input_that_is_not_a_batch_output_is_one_line_and_exit_2(tmp_path, content, words):
    (tmp_path / "g.jsonl").write_text(content)
    out = CliRunner().invoke(app, ["report", str(tmp_path / "g.jsonl"), "--html", str(tmp_path / "c.html")])
    assert out.exit_code == 2, out.output
    assert words in out.output and "Traceback" not in out.output and len(out.output.strip().splitlines()) == 1
    assert not (tmp_path / "c.html").exists()


def test_other_bad_inputs_exit_2(tmp_path):
    results = fx.write_jsonl(tmp_path / "g.jsonl")
    roster = tmp_path / "r.csv"
    roster.write_text("submission,name\ns1,Ada\nghost,Nobody\n")
    cases = [
        (["report", str(tmp_path / "nope.jsonl")], "does not exist"),
        (["report", str(results), "--roster", str(roster)], "names submissions the batch does not have: 'ghost'"),
        (["report", str(results), "--roster", str(tmp_path / "g.jsonl")], "needs a header row"),
        (["report", str(tmp_path)], "without reports/"),
        (["report", str(results), "--similarity"], "--similarity needs the submissions"),
    ]
    for args, words in cases:
        out = CliRunner().invoke(app, [*args, "--html", str(tmp_path / "c.html")])
        assert out.exit_code == 2 and words in out.output, (args, out.output)


def test_bad_lines_among_good_ones_are_counted_and_named_on_the_page(tmp_path):
    reports = fx.reports()
    (tmp_path / "g.jsonl").write_text(_lines(reports[0], "{not json", reports[1], {"schema_version": 9, "submission": "x"},
                                             *reports[2:]))
    out = CliRunner().invoke(app, ["report", str(tmp_path / "g.jsonl"), "--html", str(tmp_path / "c.html"),
                                   "--json", str(tmp_path / "c.json")])
    assert out.exit_code == 0, out.output
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["submissions"] == 6 and data["total"]["mean"] == 8.3333
    assert data["problems"] == ["line 2: left out, not JSON", "line 4: left out, schema_version 9, this grader reads 1"]
    page = (tmp_path / "c.html").read_text()
    assert "2 inputs left out" in page and "line 2: left out, not JSON" in page


def test_a_state_directory_and_a_batch_still_running(tmp_path):
    state = tmp_path / "state"
    (state / "reports").mkdir(parents=True)
    for r in fx.reports()[:4]:
        (state / "reports" / f"{r['submission']}-x.json").write_text(json.dumps({"id": r["submission"], "key": "k", "report": r}))
    (state / "reports" / ".part-junk.json.part").write_text("{")
    with open(state / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running grade batch holds it
        out = CliRunner().invoke(app, ["report", str(state), "--html", str(tmp_path / "c.html"), "--json", str(tmp_path / "c.json")])
    assert out.exit_code == 0, out.output
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["partial"] is True and data["submissions"] == 4
    assert "still running" in out.output and 'id="partial"' in (tmp_path / "c.html").read_text()
    out = CliRunner().invoke(app, ["report", str(state), "--html", str(tmp_path / "c.html"), "--json", str(tmp_path / "c.json")])
    assert json.loads((tmp_path / "c.json").read_text())["partial"] is False, "the lock is free: the batch ended"


def test_an_empty_class_renders(tmp_path):
    data = classreport.build([])
    assert data["submissions"] == 0 and data["exercises"] == []
    assert "Class report: 0 submissions" in classreport.render_html(data)


def test_grade_report_never_imports_tensorflow(tmp_path):
    """It reads reports (and, for --similarity, code): no grading, so no TensorFlow to wait for."""
    fx.write_jsonl(tmp_path / "g.jsonl")
    (tmp_path / "subs" / "s1").mkdir(parents=True)
    (tmp_path / "subs" / "s1" / "loss.py").write_text("def loss(p, t):\n    return 0\n")
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom grader.cli import app\n"
            f"r = CliRunner().invoke(app, ['report', {str(tmp_path / 'g.jsonl')!r}, '--html', {str(tmp_path / 'c.html')!r}, "
            f"'--similarity', '--submissions', {str(tmp_path / 'subs')!r}])\nassert r.exit_code == 0, r.output\n"
            "print(','.join(m for m in ('tensorflow', 'keras', 'pytest') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""
