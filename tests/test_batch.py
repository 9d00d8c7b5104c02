"""Batch mechanics (discovery, isolation, resume, progress, summary) with a fake grading API.

The fake (tests/batch_fakes.py) grades in milliseconds and can hang, crash or
raise on demand, so every failure path is exercised fast. tests/test_batch_real.py
runs the same command against the real grader.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader import batch
from grader.report import Report

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FAKE = "batch_fakes:grade"
WARM = "batch_fakes:Grader"


@pytest.fixture(autouse=True)
def _fake_importable(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), str(ROOT)]))


def _sub(root: Path, name: str, text: str | None, layout: str = "flat") -> None:
    d = root / name
    d.mkdir(parents=True)
    if text is not None:
        target = d / "loss.py" if layout == "flat" else d / "ex1_loss" / "loss.py"
        target.parent.mkdir(exist_ok=True)
        target.write_text(text)


def _zip(path: Path, members: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _read(out: Path) -> list[Report]:
    return [Report.model_validate_json(line) for line in out.read_text().splitlines()]


def _run(subs: Path, out: Path, **kw) -> tuple[int, str]:
    stream = io.StringIO()
    kw.setdefault("exercises", [1])
    kw.setdefault("jobs", 2)
    kw.setdefault("grade_fn", FAKE)
    code = batch.run_batch(subs, out, stream=stream, **kw)
    return code, stream.getvalue()


@pytest.fixture
def subs(tmp_path) -> Path:
    root = tmp_path / "subs"
    _sub(root, "alice", "# score: 10\n")
    _sub(root, "bob", "# score: 5\n", layout="exercise")
    _sub(root, "carol", None)
    _zip(root / "dave.zip", {"dave/ex1_loss/loss.py": "# score: 7.5\n"})
    _zip(root / "mallory.zip", {"../../escape.py": "# score: 10\n"})
    (root / "eve.zip").write_bytes(b"not a zip")
    _sub(root, "crash", "# crash\n")
    _sub(root, "broken", "# raise\n")
    _sub(root, ".hidden", "# score: 10\n")
    (root / "notes.txt").write_text("not a submission")
    return root


def test_discover_ids_and_ignored_entries(subs):
    ids = [e.id for e in batch.discover(subs)]
    assert ids == ["alice", "bob", "broken", "carol", "crash", "dave", "eve", "mallory"]


def test_two_entries_with_one_id_are_a_usage_error(tmp_path):
    _sub(tmp_path / "s", "alice", "")
    _zip(tmp_path / "s" / "alice.zip", {"loss.py": ""})
    code, err = _run(tmp_path / "s", tmp_path / "out.jsonl")
    assert code == 2 and "alice" in err


def test_two_batches_cannot_share_a_state_directory(tmp_path):
    (tmp_path / "s").mkdir()
    held = batch.Store(tmp_path / "state").open()
    code, err = _run(tmp_path / "s", tmp_path / "out.jsonl", state=tmp_path / "state")
    assert code == 2 and "another grade batch is using" in err
    held._lock.close()
    assert _run(tmp_path / "s", tmp_path / "out.jsonl", state=tmp_path / "state")[0] == 0


def test_a_bad_secret_seed_is_a_usage_error_before_any_grading(tmp_path, monkeypatch):
    _sub(tmp_path / "s", "alice", "# score: 10\n")
    monkeypatch.setenv("GRADER_SECRET_SEED", "not-a-number")
    code, err = _run(tmp_path / "s", tmp_path / "out.jsonl")
    assert code == 2 and "GRADER_SECRET_SEED" in err and not (tmp_path / "out.jsonl").exists()


def test_a_missing_directory_is_a_usage_error(tmp_path):
    code, err = _run(tmp_path / "nope", tmp_path / "out.jsonl")
    assert code == 2 and "nope does not exist" in err
    (tmp_path / "a-file").write_text("")
    code, err = _run(tmp_path / "a-file", tmp_path / "out.jsonl")
    assert code == 2 and "a-file is not a directory" in err


def test_an_empty_directory_completes_with_a_warning(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "notes.txt").write_text("")
    code, err = _run(tmp_path / "s", tmp_path / "out.jsonl")
    assert code == 0 and f"warning: no submissions found in {tmp_path / 's'}: folders, .zip or .ipynb" in err
    assert (tmp_path / "out.jsonl").read_text() == ""


def test_a_relative_batch_directory_is_found_by_the_workers(tmp_path, monkeypatch):
    _sub(tmp_path / "s", "alice", "# score: 10\n")
    monkeypatch.chdir(tmp_path)
    code, err = _run(Path("s"), Path("out.jsonl"), jobs=1)
    assert code == 0, err
    assert [r.score for r in _read(tmp_path / "out.jsonl")] == [10.0]


def test_an_output_that_cannot_be_written_is_refused_before_any_grading(tmp_path):
    _sub(tmp_path / "s", "alice", "# score: 10\n")
    (tmp_path / "a-file").write_text("")
    for out, fmt, expected in [(tmp_path / "s", "jsonl", 2), (tmp_path / "a-file", "gradescope", 2),
                               (tmp_path / "a-file" / "out.csv", "csv", 3)]:  # fmt: skip
        code, err = _run(tmp_path / "s", out, fmt=fmt, state=tmp_path / "state")
        assert code == expected and "grading" not in err, (out, fmt, err)
    assert not list((tmp_path / "state").glob("**/*.json"))


def test_batch_grades_everything_and_broken_submissions_become_error_reports(subs, tmp_path):
    out = tmp_path / "out.jsonl"
    code, err = _run(subs, out)
    assert code == 0, err
    reports = {r.submission: r for r in _read(out)}
    assert list(reports) == ["alice", "bob", "broken", "carol", "crash", "dave", "eve", "mallory"]
    assert reports["alice"].score == 10 and reports["bob"].score == 5 and reports["dave"].score == 7.5
    assert reports["carol"].exercises[0].status == "missing"
    for sid, words in {
        "crash": "killed by SIGKILL",
        "broken": "RuntimeError: the fake grader broke",
        "eve": "not a valid zip",
        "mallory": "leaves its folder",
    }.items():
        ex = reports[sid].exercises[0]
        assert ex.status == "error" and reports[sid].score == 0, sid
        assert words in ex.message, (sid, ex.message)
        assert "Traceback" not in ex.message
    assert not (tmp_path / "escape.py").exists()
    assert "8 submission(s): 4 graded, 4 with errors" in err
    assert "exercise 1 · " in err and "most failed checks" in err


def test_a_hanging_submission_is_stopped_and_the_batch_finishes(tmp_path, monkeypatch):
    monkeypatch.setattr(batch.run, "job_timeout", lambda exercises: 3.0)
    _sub(tmp_path / "s", "hang", "# hang\n")
    _sub(tmp_path / "s", "ok", "# score: 10\n")
    start = time.monotonic()
    code, _ = _run(tmp_path / "s", tmp_path / "out.jsonl")
    assert code == 0 and time.monotonic() - start < 30
    hang, ok = _read(tmp_path / "out.jsonl")
    assert "longer than 3 s" in hang.exercises[0].message and ok.score == 10


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes through /proc")
def test_a_stopped_job_leaves_no_process_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(batch.run, "job_timeout", lambda exercises: 3.0)
    monkeypatch.setenv("FAKE_PID_FILE", str(tmp_path / "pid"))
    _sub(tmp_path / "s", "orphan", "# orphan\n")
    code, _ = _run(tmp_path / "s", tmp_path / "out.jsonl")
    assert code == 0
    pid = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), "the job's own session was killed with it"


def _worker_of(report: Report) -> tuple[int, int, int]:
    """(worker pid, processes below it when the submission started, its Grader's count) from the fake's output."""
    m = re.match(r"worker (\d+); (\d+) processes below it; submission (\d+) of this Grader", report.exercises[0].output)
    assert m, report.exercises[0].output
    return int(m[1]), int(m[2]), int(m[3])


def test_each_job_slot_keeps_one_warm_worker_and_nothing_a_submission_started_outlives_it(tmp_path):
    for i in range(6):
        _sub(tmp_path / "s", f"s{i}", "# leak\n# score: 10\n" if i % 2 == 0 else "# score: 5\n")
    code, err = _run(tmp_path / "s", tmp_path / "out.jsonl", grade_fn=WARM)
    assert code == 0, err
    reports = _read(tmp_path / "out.jsonl")
    assert [r.score for r in reports] == [10, 5] * 3
    workers = [_worker_of(r) for r in reports]
    assert len({pid for pid, _, _ in workers}) <= 2, "one worker per job slot, not one per submission"
    assert max(n for _, _, n in workers) >= 3, "a worker grades many submissions with one Grader"
    assert all(below == 0 for _, below, _ in workers), "what a submission left running is gone before the next"


def test_a_crashed_worker_is_replaced_and_the_batch_goes_on(tmp_path):
    for name, text in [("a", "# score: 10\n"), ("b", "# crash\n"), ("c", "# raise\n"), ("d", "# score: 5\n")]:
        _sub(tmp_path / "s", name, text)
    code, err = _run(tmp_path / "s", tmp_path / "out.jsonl", grade_fn=WARM, jobs=1)
    assert code == 0, err
    a, b, c, d = _read(tmp_path / "out.jsonl")
    assert "killed by SIGKILL" in b.exercises[0].message
    assert "RuntimeError: the fake grader broke" in c.exercises[0].message
    assert (a.score, d.score) == (10, 5)
    assert _worker_of(a)[0] != _worker_of(d)[0] and _worker_of(d)[2] == 1, "d was graded by a new worker"


def test_rerun_skips_done_work_and_regrades_what_changed(subs, tmp_path):
    out = tmp_path / "out.jsonl"
    _run(subs, out)
    first = out.read_text()
    code, err = _run(subs, out)
    assert code == 0 and "8 submission(s) already graded" in err
    assert "[1/8]" not in err, "nothing is graded twice"
    assert out.read_text() == first

    (subs / "bob" / "ex1_loss" / "loss.py").write_text("# score: 2.5\n")
    code, err = _run(subs, out)
    assert "7 submission(s) already graded" in err and "bob: 2.5/10" in err
    assert {r.submission: r.score for r in _read(out)}["bob"] == 2.5

    code, err = _run(subs, out, seed=99)
    assert "already graded" not in err, "another seed is another grading"
    assert {r.seed for r in _read(out)} == {99}


def test_every_format_is_written(subs, tmp_path):
    for fmt, name in [("csv", "grades.csv"), ("junit", "junit.xml"), ("gradescope", "gradescope")]:
        code, err = _run(subs, tmp_path / name, fmt=fmt)
        assert code == 0, err
    assert (tmp_path / "grades.csv").read_text().startswith("submission,ex1_loss,ex1_loss status,total")
    assert (tmp_path / "junit.xml").read_text().startswith("<?xml")
    results = sorted(p.name for p in (tmp_path / "gradescope").iterdir())
    assert results == [f"{s}.json" for s in ["alice", "bob", "broken", "carol", "crash", "dave", "eve", "mallory"]]
    assert json.loads((tmp_path / "gradescope" / "alice.json").read_text())["score"] == 10


def test_progress_bar_on_a_terminal():
    now = [0.0]
    stream = io.StringIO()
    p = batch.Progress(4, stream, tty=True, clock=lambda: now[0])
    assert "0/4" in p.line() and "ETA --:--" in p.line()
    now[0] = 60.0
    p.finished(Report(submission="a", score=1, max_score=1, seed=1, grader_version="x", duration_s=1, exercises=[]))
    line = p.line()
    assert "[######------------------] 1/4" in line and "1.0/min" in line and "ETA 3:00" in line
    assert stream.getvalue().startswith("\r\x1b[2K[")


def test_plain_progress_lines_when_not_a_terminal():
    stream = io.StringIO()
    p = batch.Progress(2, stream, tty=False)
    p.finished(Report(submission="a", score=2.5, max_score=10, seed=1, grader_version="x", duration_s=1.25, exercises=[]))
    assert stream.getvalue() == "[1/2] a: 2.5/10 (1.2 s)\n"


def test_a_progress_line_shows_the_score_and_counts_errors():
    from grader.report import ExerciseResult

    def ex(n: int, status: str) -> ExerciseResult:
        return ExerciseResult(id=n, slug=f"ex{n}", title="t", status=status, score=10 if status == "passed" else 0, max_score=10)

    stream = io.StringIO()
    p = batch.Progress(1, stream, tty=False)
    p.finished(Report(submission="erin", score=10, max_score=50, seed=1, grader_version="x", duration_s=3.0,
                      exercises=[ex(1, "passed"), ex(2, "error"), ex(3, "failed"), ex(4, "error"), ex(5, "missing")]))
    assert stream.getvalue() == "[1/1] erin: 10/50, 2 errors (3.0 s)\n"


SCRIPT = """
import sys
from pathlib import Path
from grader.batch import run_batch
sys.exit(run_batch(Path(sys.argv[1]), Path(sys.argv[2]), "jsonl", [1], 2, grade_fn="batch_fakes:Grader"))
"""


def _batch_process(subs: Path, out: Path, delay: str, workers: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "FAKE_GRADE_DELAY": delay, **({"FAKE_WORKER_DIR": str(workers)} if workers else {})}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(subs), str(out)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_kill_9_mid_batch_then_rerun_gives_the_uninterrupted_totals(tmp_path):
    subs = tmp_path / "subs"
    for i in range(14):
        _sub(subs, f"s{i:02d}", f"# score: {i % 5 * 2.5}\n")
    reference = tmp_path / "reference.jsonl"
    assert _batch_process(subs, reference, "0").wait(timeout=120) == 0

    out = tmp_path / "out.jsonl"
    workers = tmp_path / "workers"
    workers.mkdir()
    proc = _batch_process(subs, out, "0.4", workers)
    stored = batch.default_state_dir(out) / "reports"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(stored.glob("*.json"))) < 4:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = len(list(stored.glob("*.json")))
    assert 4 <= partial < 14, "killed mid-way"
    assert not out.exists()
    pids = [int(p.name) for p in workers.iterdir()]
    assert pids
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids), "the workers noticed the batch died and went with it"

    rerun = _batch_process(subs, out, "0")
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert f"{partial} submission(s) already graded" in err

    got, want = _read(out), _read(reference)
    assert [r.submission for r in got] == [r.submission for r in want]
    assert len({r.submission for r in got}) == 14
    assert sum(r.score for r in got) == sum(r.score for r in want)
    assert [(r.submission, r.score) for r in got] == [(r.submission, r.score) for r in want]


def test_ctrl_c_stops_the_jobs_and_keeps_finished_reports(tmp_path):
    subs = tmp_path / "subs"
    for i in range(8):
        _sub(subs, f"s{i}", "# score: 5\n")
    out = tmp_path / "out.jsonl"
    proc = _batch_process(subs, out, "0.5")
    stored = batch.default_state_dir(out) / "reports"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(stored.glob("*.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == batch.INTERRUPTED, err
    assert "run the same command again" in err
    rerun = _batch_process(subs, out, "0")
    assert rerun.wait(timeout=120) == 0
    assert [r.score for r in _read(out)] == [5.0] * 8


def test_cli_usage_errors_exit_2(tmp_path):
    from typer.testing import CliRunner

    from grader.cli import app

    runner = CliRunner()
    (tmp_path / "subs").mkdir()
    cases = [
        ["batch", str(tmp_path / "nope"), "--out", str(tmp_path / "o.jsonl")],
        ["batch", str(tmp_path / "subs"), "--out", str(tmp_path / "o.xml"), "--format", "xml"],
        ["batch", str(tmp_path / "subs"), "--out", str(tmp_path / "o.jsonl"), "--exercise", "9"],
        ["batch", str(tmp_path / "subs"), "--out", str(tmp_path / "o.jsonl"), "--jobs", "0"],
        ["gradescope-bundle", "--out", str(tmp_path / "a.zip"), "--visibility", "sometimes"],
    ]
    for args in cases:
        assert runner.invoke(app, args).exit_code == 2, args


def test_cli_batch_of_nothing_completes(tmp_path):
    from typer.testing import CliRunner

    from grader.cli import app

    (tmp_path / "subs").mkdir()
    result = CliRunner().invoke(app, ["batch", str(tmp_path / "subs"), "--out", str(tmp_path / "o.csv"), "--format", "csv"])
    assert result.exit_code == 0
    assert (tmp_path / "o.csv").read_bytes() == b"submission,total\r\n"


def test_summary_counts_means_medians_and_the_checks_missed_by_those_who_tried():
    from grader.report import CheckResult, ExerciseResult

    def rep(sid: str, status: str, score: float, failed: list[str]) -> Report:
        checks = [CheckResult(name=f"Check {c.upper()} by its title", id=c, status="failed" if c in failed else "passed", score=0 if c in failed else 5,
                              max_score=5) for c in ("a", "b")]  # fmt: skip
        ex = ExerciseResult(id=1, slug="ex1_loss", title="Write the loss", status=status, score=score, max_score=10, checks=checks)
        return Report(submission=sid, score=score, max_score=10, seed=1, grader_version="x", duration_s=0, exercises=[ex])

    text = batch.summary([
        rep("p", "passed", 10, []), rep("f", "failed", 5, ["b"]), rep("g", "failed", 5, ["b"]),
        rep("m", "missing", 0, ["a", "b"]), rep("e", "error", 0, ["a", "b"]),
    ])  # fmt: skip
    assert text.splitlines()[0] == "5 submission(s): 4 graded, 1 with errors"
    assert "exercise 1 · Write the loss: mean 4.00, median 5.00 / 10" in text
    assert text.splitlines()[-2] == "     2  exercise 1 · Check B by its title", "missing and broken exercises are not counted as missed ideas"
    assert "::" not in text, "checks are named by their titles, not by internal ids"
    assert text.splitlines()[-1].startswith("the whole picture (checks, mistakes, students): grade report")
