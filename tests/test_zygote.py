"""The zygote path: runners forked from a warm process behave like spawned ones."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from grader import api
from grader.runner.client import RunnerLimits, RunnerSession, StudentCrashed, StudentTimeout
from grader.runner.launch import Spawn, Zygote
from grader.runner.namespaces import processes_reach_grader

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the zygote needs fork()")

ROOT = Path(__file__).resolve().parent.parent

STUDENT = textwrap.dedent('''
    import os, subprocess, sys, tempfile

    print("hello from the student")

    def facts():
        return {
            "cwd": os.getcwd(),
            "session_leader": os.getsid(0) == os.getpid(),
            "group_leader": os.getpgid(0) == os.getpid(),
            "fds": sorted(int(f) for f in os.listdir("/proc/self/fd")),
            "env": dict(os.environ),
            "tmp": tempfile.gettempdir(),
            "isolated": bool(sys.flags.isolated),
            "judge_modules": sorted(m for m in sys.modules if m.startswith(("grader", "pytest", "pydantic"))),
            "pid": os.getpid(),
            "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        }

    def keras_home():
        import keras
        return keras.config.keras_home() if hasattr(keras.config, "keras_home") else os.environ["KERAS_HOME"]

    def spin():
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        while True:
            pass

    def die():
        os._exit(3)
''')


@pytest.fixture(scope="module")
def zygote():
    with Zygote() as z:
        yield z


@pytest.fixture
def student(tmp_path: Path) -> Path:
    path = tmp_path / "student.py"
    path.write_text(STUDENT)
    return path


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry))
    return members


def _plain(wire: dict):
    """A described value (child.describe) back to plain Python."""
    value = wire.get("value")
    if wire["kind"] in ("list", "tuple"):
        return [_plain(v) for v in value]
    if wire["kind"] == "dict":
        return {k: _plain(v) for k, v in value.items()}
    return value


def _facts(launcher, student: Path) -> tuple[dict, str]:
    with RunnerSession(student, launcher=launcher) as s:
        s.wait_ready()
        facts = _plain(s.call("facts"))
    return facts, s.output()  # after close(), which has collected all it printed


def test_forked_runner_is_set_up_like_a_spawned_one(zygote, student, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_SEED", "424242")  # the judge's secret must not reach a runner
    forked, forked_out = _facts(zygote, student)
    spawned, spawned_out = _facts(Spawn(), student)
    for facts in (forked, spawned):
        assert facts["session_leader"] and facts["group_leader"] and facts["isolated"]
        assert Path(facts["tmp"]) == Path(facts["cwd"])
        assert "GRADER_SECRET_SEED" not in facts["env"]
        assert facts["judge_modules"] == []
        assert len(facts["fds"]) <= 6  # 0-2, the request and response pipes, the listing's own fd
        if processes_reach_grader() is None:  # PID 1 of a PID namespace of its own: it sees only itself
            assert facts["pid"] == 1 and facts["processes"] == [1]
    per_runner = {k for k, v in spawned["env"].items() if v.startswith(spawned["cwd"])}
    assert {k: v for k, v in forked["env"].items() if k not in per_runner} == \
        {k: v for k, v in spawned["env"].items() if k not in per_runner}
    assert all(forked["env"][k].startswith(forked["cwd"]) for k in per_runner)
    assert len(forked["fds"]) == len(spawned["fds"])
    assert forked_out == spawned_out


def test_forked_runner_keeps_keras_files_in_its_own_directory(zygote, student):
    with RunnerSession(student, launcher=zygote) as s:
        s.wait_ready()
        home = _plain(s.call("keras_home"))
        work = Path(_plain(s.call("facts"))["cwd"])
    assert Path(home).parent == work


def test_timeout_kills_the_forked_runner_and_its_children(zygote, student):
    session = RunnerSession(student, launcher=zygote, limits=RunnerLimits(call_seconds=1.5))
    try:
        session.wait_ready()
        pid = session._proc.pid
        assert _group_members(pid)
        with pytest.raises(StudentTimeout):
            session.call("spin")
        deadline = time.monotonic() + 5
        while _group_members(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _group_members(pid) == []
    finally:
        session.close()


def test_a_runner_that_exits_is_reported_and_replaced(zygote, student):
    with RunnerSession(student, launcher=zygote) as s:
        s.wait_ready()
        first = s._proc.pid
        with pytest.raises(StudentCrashed, match="exit code 3"):
            s.call("die")
        assert _plain(s.call("facts"))["session_leader"] is True  # a fresh fork
        assert s._proc.pid != first


def test_runners_die_with_their_zygote(student):
    zygote = Zygote().start()
    try:
        s = RunnerSession(student, launcher=zygote)
        s.wait_ready()
        pid = s._proc.pid
        os.kill(zygote._proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while _group_members(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _group_members(pid) == []
        try:
            s.call("facts")
        except StudentCrashed:
            pass  # the call reached the runner as it went down; the next one gets a new runner
        assert _plain(s.call("facts"))["session_leader"] is True  # forked by a new zygote
        assert s._proc.pid != pid
        s.close()
    finally:
        zygote.close()


def _stable(report) -> dict:
    data = report.model_dump(mode="json")
    data.pop("duration_s")
    for ex in data["exercises"]:
        ex.pop("duration_s")
        ex.pop("student_s")
    return data


def test_zygote_and_spawn_give_the_same_report():
    submissions = [ROOT / "solutions", ROOT / "exercises"]
    with api.Grader() as grader:
        forked = [grader.grade(path, [1], seed=7) for path in submissions]
        again = [grader.grade(path, [1], seed=7) for path in submissions]
    with api.Grader(zygote=False) as grader:
        spawned = [grader.grade(path, [1], seed=7) for path in submissions]
    assert forked[0].score == forked[0].max_score and forked[1].score == 0
    assert [_stable(r) for r in forked] == [_stable(r) for r in again] == [_stable(r) for r in spawned]


def test_a_stopped_zygote_is_replaced_not_waited_for(student, monkeypatch):
    """A zygote stopped by SIGSTOP (what a same-uid runner could do without a PID namespace)
    costs the session its time limit, never a frozen judge; the next session gets a new zygote."""
    from grader.runner import client, launch

    monkeypatch.setattr(client, "PREPARE_SECONDS", 3.0)
    monkeypatch.setattr(launch, "ANSWER_SECONDS", 2.0)
    zygote = Zygote().start()
    try:
        stopped = zygote.pid
        os.kill(stopped, signal.SIGSTOP)
        with RunnerSession(student, launcher=zygote) as s, pytest.raises(StudentTimeout):
            s.wait_ready()
        assert zygote.pid != stopped
        with pytest.raises(ProcessLookupError):
            os.kill(stopped, 0)
        monkeypatch.setattr(client, "PREPARE_SECONDS", 120.0)
        with RunnerSession(student, launcher=zygote) as s:
            s.wait_ready()
            assert _plain(s.call("facts"))["session_leader"] is True
    finally:
        zygote.close()
