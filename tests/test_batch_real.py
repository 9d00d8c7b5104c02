"""`grade batch` end to end with the real grader, on exercise 1 (the quick one).

One generated batch of 13 submissions (solutions, a stub, named mistakes, a
syntax error, a hanging import, bad and unsafe zips, an empty directory) is
graded by `python -m grader batch --jobs 2` as a real subprocess, SIGKILLed
mid-way, and run again: the second run must resume (no report lost, none
graded twice) and end with the scores an uninterrupted run gives. The other
formats are then rendered from the same state without grading again.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path


from grader.report import Report

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = (ROOT / "solutions" / "ex1_loss" / "loss.py").read_text()
STUB = (ROOT / "exercises" / "ex1_loss" / "loss.py").read_text()
SUM_NOT_MEAN = SOLUTION.replace("tf.reduce_mean(", "tf.reduce_sum(")
NUMPY_ROUND_TRIP = """\
import numpy as np
import tensorflow as tf


def loss(predicted_y, target_y):
    p = np.asarray(predicted_y, dtype=np.float32).reshape(-1)
    t = np.asarray(target_y, dtype=np.float32).reshape(-1)
    return tf.constant(np.mean((p - t) ** 2))
"""

# id -> (expected score, expected exercise status or None for "any", words the message must hold)
EXPECTED = {
    "alice": (10.0, "passed", ""),
    "bob_zip": (10.0, "passed", ""),
    "carol_stub": (0.0, "not_attempted", ""),
    "dave_sum": (None, "failed", ""),
    "erin_numpy": (None, "failed", ""),
    "frank_syntax": (0.0, "error", ""),
    "grace_hangs": (0.0, "error", "within"),
    "heidi_empty": (0.0, "missing", ""),
    "ivan_badzip": (0.0, "error", "not a valid zip"),
    "judy_escape": (0.0, "error", "leaves its folder"),
    "mallory_link": (0.0, "error", "symbolic link"),
    "niaj_wrongname": (0.0, "missing", ""),
    "olivia_manyfiles": (0.0, "error", "files; the limit is"),
}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_batch(root: Path) -> Path:
    subs = root / "submissions"
    _write(subs / "alice" / "ex1_loss" / "loss.py", SOLUTION)
    with zipfile.ZipFile(subs / "bob_zip.zip", "w") as zf:
        zf.writestr("bob/loss.py", SOLUTION)
    _write(subs / "carol_stub" / "loss.py", STUB)
    _write(subs / "dave_sum" / "loss.py", SUM_NOT_MEAN)
    _write(subs / "erin_numpy" / "ex1_loss" / "loss.py", NUMPY_ROUND_TRIP)
    _write(subs / "frank_syntax" / "loss.py", "def loss(predicted_y, target_y)\n    return 0\n")
    _write(subs / "grace_hangs" / "loss.py", "import time\nwhile True:\n    time.sleep(1)\n")
    (subs / "heidi_empty").mkdir()
    (subs / "ivan_badzip.zip").write_bytes(b"PK\x03\x04 truncated, not really a zip")
    with zipfile.ZipFile(subs / "judy_escape.zip", "w") as zf:
        zf.writestr("loss.py", SOLUTION)
        zf.writestr("../../../tmp/escaped_loss.py", "print('pwned')\n")
    with zipfile.ZipFile(subs / "mallory_link.zip", "w") as zf:
        link = zipfile.ZipInfo("loss.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, str(ROOT / "solutions" / "ex1_loss" / "loss.py"))
    _write(subs / "niaj_wrongname" / "Loss.py", SOLUTION)
    with zipfile.ZipFile(subs / "olivia_manyfiles.zip", "w") as zf:
        zf.writestr("loss.py", SOLUTION)
        for i in range(300):
            zf.writestr(f"junk/{i}.txt", "")
    _write(subs / ".git" / "HEAD", "ref: refs/heads/main\n")
    _write(subs / "README.txt", "not a submission\n")
    return subs


def _grade(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "grader", "batch", *args], cwd=ROOT,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_real_batch_killed_mid_way_then_resumed(tmp_path):
    subs = make_batch(tmp_path)
    out, state = tmp_path / "grades.jsonl", tmp_path / "state"
    common = [str(subs), "--exercise", "1", "--jobs", "2", "--state", str(state), "--seed", "7"]

    first = _grade(*common, "--out", str(out))
    reports_dir = state / "reports"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(reports_dir.glob("*.json"))) < 7 and first.poll() is None:
        time.sleep(0.1)
    assert first.poll() is None, f"the batch finished before it could be killed: {first.communicate()[1]}"
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    kept = len(list(reports_dir.glob("*.json")))
    assert 7 <= kept < len(EXPECTED)
    assert not out.exists()

    second = _grade(*common, "--out", str(out))
    _, err = second.communicate(timeout=400)
    assert second.returncode == 0, err
    assert f"{kept} submission(s) already graded" in err
    assert f"{len(EXPECTED)} submission(s):" in err and "most failed checks" in err

    reports = [Report.model_validate_json(line) for line in out.read_text().splitlines()]
    assert [r.submission for r in reports] == sorted(EXPECTED), "one report per submission, none lost or repeated"
    for r in reports:
        score, status, words = EXPECTED[r.submission]
        ex = r.exercises[0]
        assert r.seed == 7
        assert ex.status == status, (r.submission, ex.status, ex.message)
        if score is not None:
            assert r.score == score, (r.submission, r.score)
        assert words in ex.message + " ".join(c.message for c in ex.checks), (r.submission, ex.message)
    by_id = {r.submission: r for r in reports}
    assert 0 < by_id["dave_sum"].score < 10
    assert any(c.mistake == "sum_instead_of_mean" for c in by_id["dave_sum"].exercises[0].checks)
    assert any(c.mistake == "numpy_round_trip" for c in by_id["erin_numpy"].exercises[0].checks)
    assert not (Path("/tmp") / "escaped_loss.py").exists()

    # Every other format comes from the same state: nothing is graded again.
    for fmt, target in [("csv", "grades.csv"), ("junit", "junit.xml"), ("gradescope", "gradescope")]:
        run = _grade(*common, "--out", str(tmp_path / target), "--format", fmt)
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0 and f"{len(EXPECTED)} submission(s) already graded" in err, err
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert {row["submission"]: float(row["total"]) for row in rows} == {r.submission: r.score for r in reports}
    suites = ET.parse(tmp_path / "junit.xml").getroot().findall("testsuite")
    assert len(suites) == len(EXPECTED) and all(len(s.findall("testcase")) >= 1 for s in suites)
    alice = json.loads((tmp_path / "gradescope" / "alice.json").read_text())
    assert alice["score"] == 10 and len(alice["tests"]) == 4


# Golden scenarios graded one after another by one warm worker: the references it keeps
# (and the runs it shares between identical models) must not change any report. Each
# solution comes twice, so its second grading finds everything cached.
WARM_SCENARIOS = [
    "ex3_two_layer/solution", "ex3_two_layer/relu_on_output", "ex3_two_layer/solution",
    "ex4_perceptron/solution", "ex4_perceptron/train_returns_none", "ex4_perceptron/solution",
    "ex5_quantize/solution", "ex5_quantize/wrong_length", "ex5_quantize/solution",
]


def test_one_warm_worker_gives_every_golden_report(tmp_path):
    import shutil

    from tests.scenario import SCENARIOS, SEED, load, normalise

    subs = tmp_path / "submissions"
    for i, name in enumerate(WARM_SCENARIOS):
        shutil.copytree(load(SCENARIOS / name).submission, subs / f"{i}_{name.replace('/', '_')}")
    out = tmp_path / "grades.jsonl"
    run = _grade(str(subs), "--exercise", "3,4,5", "--jobs", "1", "--seed", str(SEED), "--out", str(out))
    _, err = run.communicate(timeout=600)
    assert run.returncode == 0, err
    reports = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(reports) == len(WARM_SCENARIOS)
    for report in reports:
        name = WARM_SCENARIOS[int(report["submission"].split("_")[0])]
        expected = json.loads((SCENARIOS / name / "expected.json").read_text())["exercises"][0]
        graded = {ex["slug"]: ex for ex in normalise(report)["exercises"]}[name.split("/")[0]]
        assert graded == expected, name
