"""The pool worker's protocol: a request with a bad field is answered with an error, and the worker lives on.

The worker (`python -m grader.pool.worker_main`) runs for real, with the batch
tests' fast stand-in grader (tests/batch_fakes.py) instead of TensorFlow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.pool import Job, Pool
from grader.pool.workers import JobRefused

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}


@pytest.fixture
def good(tmp_path) -> Path:
    sub = tmp_path / "alice"
    sub.mkdir()
    (sub / "loss.py").write_text("# score: 10\n")
    return sub


BAD = [
    ("not json", None, "not JSON"),
    ("[1, 2]", None, "JSON object"),
    ('{"submission": "/x"}', None, "'id'"),
    ('{"id": 7, "submission": "/x"}', None, "'id'"),
    ('{"id": "a", "submission": "/x", "priority": 1}', "a", "unknown field"),
    ('{"id": "a", "submission": "relative/path"}', "a", "'submission'"),
    ('{"id": "a", "submission": null}', "a", "'submission'"),
    ('{"id": "a", "submission": "/x", "exercises": [9]}', "a", "'exercises'"),
    ('{"id": "a", "submission": "/x", "exercises": []}', "a", "'exercises'"),
    ('{"id": "a", "submission": "/x", "exercises": "1"}', "a", "'exercises'"),
    ('{"id": "a", "submission": "/x", "exercises": [true]}', "a", "'exercises'"),
    ('{"id": "a", "submission": "/x", "seed": "abc"}', "a", "'seed'"),
    ('{"id": "a", "submission": "/x", "seed": -1}', "a", "'seed'"),
    ('{"id": "a", "submission": "/x", "seed": 1.5}', "a", "'seed'"),
    ('{"id": "a", "submission": "/x", "seed": 9223372036854775808}', "a", "'seed'"),
]


def test_every_bad_field_gets_an_error_reply_and_the_worker_grades_on(good):
    worker = subprocess.Popen([sys.executable, "-m", "grader.pool.worker_main", "--grade-fn", "batch_fakes:Grader"],
                              cwd=ROOT, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        for line, sid, word in BAD:
            worker.stdin.write(line + "\n")
            worker.stdin.flush()
            reply = json.loads(worker.stdout.readline())
            assert reply["id"] == sid and reply["error"]["code"] == "bad_request", (line, reply)
            assert word in reply["error"]["message"] and "\n" not in reply["error"]["message"], (line, reply)
        worker.stdin.write(json.dumps({"id": "alice", "submission": str(good), "exercises": [1], "seed": 7}) + "\n")
        worker.stdin.flush()
        reply = json.loads(worker.stdout.readline())
        assert reply["id"] == "alice" and reply["report"]["score"] == 10 and reply["report"]["seed"] == 7, reply
        assert "submission 1 of this Grader" in reply["report"]["exercises"][0]["output"]  # nothing graded before
    finally:
        worker.stdin.close()
        assert worker.wait(timeout=30) == 0, worker.stderr.read()
    assert "Traceback" not in worker.stderr.read()


def test_the_pool_keeps_a_worker_that_refused_a_job(good, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", ENV["PYTHONPATH"])
    pool = Pool(slots=1, scratch=good.parent / "scratch", grade_fn="batch_fakes:Grader")
    try:
        with pytest.raises(JobRefused, match="'seed'"):
            pool.grade(Job(id="bad", path=good, seed=-5))
        report = pool.grade(Job(id="alice", path=good, exercises=[1]))
        assert report.score == 10 and pool.started == 1
    finally:
        pool.close()
