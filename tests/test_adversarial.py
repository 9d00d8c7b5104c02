"""Adversarial submissions for exercise 1: each attack earns only what its honest part earns.

One scenario per folder in tests/adversarial/<name>/ (the student's loss.py and,
for some, files planted beside it). For each: the report is valid, the score is
exactly the expected one, the grader returned within its limits, and nothing
the attack started is still running. Small limits keep the module fast.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import time
from pathlib import Path

import pytest

from grader import api
from grader.report import Report

pytestmark = pytest.mark.timeout(300)

HERE = Path(__file__).parent / "adversarial"
LIMITS = dict(call_seconds=4.0, exercise_seconds=15.0, memory_mib=1024, processes=64, file_mib=8,
              output_kib=16, open_files=64)
START_ALLOWANCE = 90.0  # starting Python and TensorFlow in the runner, on a loaded machine
MARKER = "grader-adversarial-marker"
SECRETS = {"GRADER_SECRET_SEED": "987654321", "GRADER_TEST_TOKEN": "tok-do-not-leak-4f1c"}
FULL, ZERO = 10.0, 0.0

# name -> (expected score, words expected in the feedback or None)
EXPECTED = {
    "honest_solution": (FULL, None),
    "loop_at_import": (ZERO, "did not finish importing loss.py"),
    "loop_in_call": (ZERO, "did not finish loss()"),
    "memory_bomb_huge": (ZERO, "used more than 1 GiB of memory"),
    "memory_bomb_gradual": (ZERO, "used more than 1 GiB of memory"),
    "fork_bomb": (ZERO, "started more than 64 processes or threads"),
    "thread_bomb": (ZERO, "started more than 64 processes or threads"),
    "sys_exit_import": (ZERO, "called exit()"),
    "os_exit_import": (ZERO, "ended the Python process"),
    "sys_exit_call": (ZERO, "called exit()"),
    "os_exit_call": (ZERO, "ended the Python process"),
    "forged_output": (ZERO, None),
    "fake_report_file": (ZERO, None),
    "monkeypatch_comparisons": (ZERO, None),
    "lying_objects": (ZERO, "got a MyFloat"),
    "lying_subclasses": (ZERO, "got a MyFloat"),
    "planted_files": (ZERO, None),
    "search_solutions": (ZERO, None),
    "introspection": (ZERO, None),
    "background_process": (FULL, None),
    "big_output": (FULL, None),
    "big_file": (ZERO, "wrote a file larger than 8 MiB"),
    "many_open_files": (ZERO, "opened more than 64 files at once"),
    "binary_garbage": (ZERO, "Python cannot read your loss.py"),
    "huge_source": (FULL, None),
    "missing_import": (ZERO, "ModuleNotFoundError"),
    "network": (FULL, None),
    "env_secrets": (FULL, None),
    "forged_protocol": (ZERO, "interfered with the grader's channel"),
    "kill_judge": (ZERO, None),
}


def test_every_scenario_has_an_expectation():
    assert sorted(p.name for p in HERE.iterdir() if p.is_dir()) == sorted(EXPECTED)


def _session_processes() -> dict[int, str]:
    """Processes an attack may have left: descendants of this test process, processes carrying the
    attack's marker, and orphans (reparented to init) of a sandbox uid. Runners of another grader
    running at the same time have a live parent of their own and are not counted."""
    me, table = os.getpid(), {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            uid = os.stat(f"/proc/{name}").st_uid
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if fields[0] != b"Z":
            table[int(name)] = (int(fields[1]), uid, cmd[:120])

    def descends_from_me(pid: int) -> bool:
        seen = set()
        while pid in table and pid not in seen:
            seen.add(pid)
            pid = table[pid][0]
            if pid == me:
                return True
        return False

    return {pid: cmd for pid, (ppid, uid, cmd) in table.items()
            if descends_from_me(pid) or MARKER in cmd or (uid >= 1_500_000_000 and ppid == 1)}


def _submission(name: str, tmp_path: Path, port: int) -> Path:
    sub = tmp_path / "submission"
    shutil.copytree(HERE / name, sub)
    # Files an attack plants beside the student file are stored as `*.planted`, so that our own
    # pytest run can never load them (a planted conftest.py would mark every test passed).
    for planted in sub.glob("*.planted"):
        planted.rename(planted.with_suffix(""))
    loss = sub / "loss.py"
    data = loss.read_bytes()
    loss.write_bytes(data.replace(b"__PORT__", str(port).encode()).replace(b"__MARKER__", MARKER.encode()))
    return sub


def _messages(report: Report) -> str:
    ex = report.exercises[0]
    return "\n".join([ex.message, *(c.message for c in ex.checks)])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_attack(name, tmp_path, monkeypatch):
    if name == "kill_judge" and os.geteuid() != 0:
        pytest.skip("only a runner under its own uid (the judge runs as root) cannot signal the judge")
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    before = set(_session_processes())
    try:
        sub = _submission(name, tmp_path, listener.getsockname()[1])
        start = time.monotonic()
        report = api.grade(sub, exercises=[1], submission_id=name, limits=LIMITS)
        elapsed = time.monotonic() - start

        text = report.model_dump_json()
        Report.model_validate(json.loads(text))
        score, words = EXPECTED[name]
        assert report.grader_errors == 0
        assert report.score == score, _messages(report)
        if words:
            assert words in _messages(report)
        assert elapsed < LIMITS["exercise_seconds"] + START_ALLOWANCE
        for value in SECRETS.values():
            assert value not in text
        assert len(report.exercises[0].output) < LIMITS["output_kib"] * 1024 + 1000
        notes = "\n".join(report.environment.notes)
        if "network not isolated" not in notes:
            with pytest.raises(BlockingIOError):
                listener.accept()
        time.sleep(0.3)
        left = {pid: cmd for pid, cmd in _session_processes().items() if pid not in before}
        assert not left, f"still running after grading: {left}"
    finally:
        listener.close()
        for pid in set(_session_processes()) - before:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        Path(f"/tmp/{MARKER}-report.json").unlink(missing_ok=True)


def test_output_attack_leaves_one_json_document_on_stdout(tmp_path):
    """`grade --json` prints exactly the judge's report, whatever the student printed."""
    import subprocess
    import sys

    sub = _submission("forged_output", tmp_path, 0)
    out = subprocess.run([sys.executable, "-m", "grader", "exercise", "1", "--submission", str(sub), "--json"],
                         capture_output=True, text=True, timeout=240, cwd=Path(__file__).parent.parent)
    report = Report.model_validate(json.loads(out.stdout))
    assert out.returncode == 1
    assert report.score == 0.0
