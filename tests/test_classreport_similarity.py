"""`grade report --similarity` on a generated class (bench/classgen.py, fixed seed) with planted copies.

Recall: the share of planted (original, copy) pairs flagged as whole submissions. False pairs: flagged
pairs that no planting explains (the generator's independent students never copy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader import classreport
from grader.classreport import similarity
from grader.cli.app import app
from tests import classreport_fixture as fx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import classgen  # noqa: E402

STUBS = {slug: (ROOT / "exercises" / slug / f).read_text() for slug, f in classgen.FILES.items()}


@pytest.fixture(scope="module")
def generated():
    sources, planted = classgen.generate(200, 20, 20, seed=classgen.SEED)
    return sources, planted, similarity.analyse(sources, sorted(sources))


def _true_pairs(planted):
    truth = {frozenset((a, b)) for a, b, _ in planted}
    by_source: dict[str, list[str]] = {}
    for a, b, _ in planted:
        by_source.setdefault(a, []).append(b)
    for copies in by_source.values():  # two copies of one original are alike too
        truth |= {frozenset((x, y)) for x in copies for y in copies if x != y}
    return truth


def test_recall_and_false_pairs_on_the_generated_class(generated):
    sources, planted, result = generated
    whole = {frozenset((p["a"], p["b"])) for p in result["similarity"] if p["exercise"] is None}
    for kind, floor in (("renamed", 0.95), ("added", 0.8)):
        pairs = [frozenset((a, b)) for a, b, k in planted if k == kind]
        recall = sum(p in whole for p in pairs) / len(pairs)
        assert recall >= floor, (kind, recall)
    truth = _true_pairs(planted)
    false = [p for p in result["similarity"] if frozenset((p["a"], p["b"])) not in truth]
    assert false == [], "no pair of independent students is flagged"
    assert all(c["members"] for c in result["similarity_clusters"])
    assert all(p["exercise"] != 1 for p in result["similarity"]), "exercise 1 is never flagged on its own"


def test_the_generated_files_are_python_and_carry_the_stub():
    import ast

    sources, _ = classgen.generate(20, 2, 2)
    for files in sources.values():
        for slug, text in files.items():
            ast.parse(text)
            assert STUBS[slug].splitlines()[0] in text


def test_the_stub_never_counts():
    sources = {f"s{n}": dict(STUBS) for n in range(12)}
    result = similarity.analyse(sources, sorted(sources))
    assert result["similarity"] == []
    # two students who only wrote exercise 2's given Model class and loss (the stub's code) again
    assert similarity.analyse({"a": {"ex2_train_step": STUBS["ex2_train_step"]},
                               "b": {"ex2_train_step": STUBS["ex2_train_step"]}}, ["a", "b"])["similarity"] == []


def test_a_short_exercise_solved_alike_is_never_flagged_on_its_own():
    one_liner = STUBS["ex1_loss"].replace(
        '    raise NotImplementedError("Exercise 1: write loss()")',
        "    return tf.reduce_mean(tf.square(tf.reshape(tf.cast(predicted_y, tf.float32), [-1])"
        " - tf.reshape(tf.cast(target_y, tf.float32), [-1])))")
    assert one_liner != STUBS["ex1_loss"]
    for n in (2, 3, 40):  # a pair alone, and a class where everyone writes it
        sources = {f"s{i}": {**STUBS, "ex1_loss": one_liner} for i in range(n)}
        assert similarity.analyse(sources, sorted(sources))["similarity"] == [], n


def test_a_copy_survives_renaming_reordering_comments_and_docstrings():
    import ast
    import builtins
    import re

    sources, _ = classgen.generate(30, 0, 0)
    original = sources["student0004"]["ex3_two_layer"]
    tree = ast.parse(original)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    copy = original
    for name in sorted(names - set(dir(builtins)) - {"np"}):  # every variable and parameter renamed
        copy = re.sub(rf"(?<![\w.]){name}(?!\w)", f"my_{name}", copy)
    head, *functions = copy.split("\ndef ")
    functions = ["def " + f.split('"""')[0] + f.split('"""')[2] if f.count('"""') >= 2 else "def " + f
                 for f in functions]  # docstrings dropped
    copy = head + "\n" + "\n".join(functions[::-1])  # functions reordered
    copy = "\n".join(ln + "  # my comment" if ln.endswith(")") else ln for ln in copy.splitlines())
    assert "my_" in copy and copy.index("def network_output") < copy.index("def two_layer_output")
    ast.parse(copy)
    stub = similarity._stubs()["ex3_two_layer"][0]
    a, b = similarity.Doc(original, stub), similarity.Doc(copy, stub)
    assert len(a.prints) >= 20
    assert len(set(a.prints) & set(b.prints)) >= 0.9 * len(a.prints)


def test_the_cli_finds_the_submissions_the_batch_recorded_and_shows_them_side_by_side(tmp_path):
    sources, planted = classgen.generate(30, 2, 1)
    subs = tmp_path / "subs"
    classgen.write(subs, sources)
    reports = []
    for sid in sorted(sources):
        r = fx.report("s1")
        r["submission"] = sid
        reports.append(r)
    results = fx.write_jsonl(tmp_path / "grades.jsonl", reports)
    state = tmp_path / ".grades.jsonl.grader-state"
    state.mkdir()
    (state / "batch.json").write_text(json.dumps({"directory": str(subs)}))  # as grade batch records it
    out = CliRunner().invoke(app, ["report", str(results), "--html", str(tmp_path / "c.html"), "--json",
                                   str(tmp_path / "c.json"), "--similarity"])
    assert out.exit_code == 0, out.output
    data = json.loads((tmp_path / "c.json").read_text())
    flagged = {frozenset((p["a"], p["b"])) for p in data["similarity"]}
    assert {frozenset((a, b)) for a, b, _ in planted} <= flagged
    page = (tmp_path / "c.html").read_text()
    assert "Similarity is not proof of copying" in page
    assert 'class="ln shared"' in page and 'class="ln stub"' in page
    view = data["similarity_views"][0]
    stub_lines = {ln.strip() for ln in STUBS[view["files"][0]["slug"]].splitlines() if ln.strip()}
    for text, kind, _ in view["files"][0]["a"]:
        if text.strip() and text.strip() in stub_lines:
            assert kind == "stub", text
    # and with the directory given explicitly, the same pairs
    out = CliRunner().invoke(app, ["report", str(results), "--html", str(tmp_path / "d.html"), "--json",
                                   str(tmp_path / "d.json"), "--similarity", "--submissions", str(subs)])
    assert json.loads((tmp_path / "d.json").read_text())["similarity"] == data["similarity"]


def test_similarity_is_the_same_across_hash_seeds(tmp_path):
    sources, _ = classgen.generate(25, 2, 2)
    classgen.write(tmp_path / "subs", sources)
    reports = [dict(fx.report("s1"), submission=sid) for sid in sorted(sources)]
    results = fx.write_jsonl(tmp_path / "g.jsonl", reports)
    outputs = []
    for seed in ("1", "999"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "grader", "report", str(results), "--similarity", "--submissions",
                               str(tmp_path / "subs"), "--html", str(tmp_path / f"{seed}.html"), "--json",
                               str(tmp_path / f"{seed}.json")], cwd=ROOT, env=env, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(((tmp_path / f"{seed}.json").read_bytes(), (tmp_path / f"{seed}.html").read_bytes()))
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0][0])["similarity"], "the planted copies are there to compare"


def test_the_api_takes_sources_directly():
    sources, planted = classgen.generate(20, 1, 0)
    reports = [dict(fx.report("s1"), submission=sid) for sid in sorted(sources)]
    data = classreport.build(reports, sources=sources)
    assert {(p["a"], p["b"]) for p in data["similarity"]} >= {tuple(sorted((a, b))) for a, b, _ in planted}
    assert "similarity" not in classreport.build(reports)


def test_anonymise_leaks_no_id_from_the_code_either():
    sources, planted = classgen.generate(20, 2, 2)
    sources = {sid: {slug: f"# written by {sid}\n{text}" for slug, text in files.items()} for sid, files in sources.items()}
    reports = [dict(fx.report("s1"), submission=sid) for sid in sorted(sources)]
    data = classreport.build(reports, sources=sources, anonymise=True)
    assert data["similarity"] and data["similarity_views"][0]["files"], "there is code on the page to leak from"
    texts = classreport.to_json(data), classreport.render_html(data)
    for sid in sources:
        assert not any(sid in t for t in texts), sid
