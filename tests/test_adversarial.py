"""Adversarial submissions for exercise 1: each attack earns only what its honest part earns.

One scenario per folder in tests/adversarial/<name>/ (the student's loss.py and,
for some, files planted beside it). For each: the report is valid, the score is
exactly the expected one, the grader returned within its limits, and nothing
the attack started is still running. Small limits keep the module fast.

Run as root (CI does), the corpus is graded twice: once per scenario as root,
and once more as a whole, in one `grade batch` run by a throwaway unprivileged
uid (tests/unprivileged.py), the way an instructor's or a student's own account
runs the grader: there the runner shares the user's uid, and only its own PID
namespace keeps `kill(-1)` and `ptrace` away from the grader and from the user's
other processes (a sentinel process of that uid must survive).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grader import api
from grader.report import Report
from grader.runner import namespaces
from tests import unprivileged

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
    "kill_all_sigkill": (FULL, None),
    "kill_all_sigstop": (FULL, None),
    "signal_ancestors": (FULL, None),
    "guessed_pids": (FULL, None),
    "trace_judge": (FULL, None),
    "write_home": (FULL, None),
}
# Attacks on the grader's processes: harmless only where each runner has a PID namespace or a uid of its own.
SIGNALLING = {"kill_judge", "kill_all_sigkill", "kill_all_sigstop", "signal_ancestors", "guessed_pids",
              "trace_judge"}
REACHED = "REACHED"  # what an attack prints when it got through


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


def _user_site(home: Path) -> Path:
    return home / ".local" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def _submission(name: str, tmp_path: Path, port: int, home: Path, sub: Path | None = None) -> Path:
    """The scenario's files, with the test's port, marker and the home directory an attack aims at."""
    sub = sub or tmp_path / "submission"
    shutil.copytree(HERE / name, sub)
    # Files an attack plants beside the student file are stored as `*.planted`, so that our own
    # pytest run can never load them (a planted conftest.py would mark every test passed).
    for planted in sub.glob("*.planted"):
        planted.rename(planted.with_suffix(""))
    loss = sub / "loss.py"
    data = loss.read_bytes()
    for placeholder, value in (("__PORT__", str(port)), ("__MARKER__", MARKER), ("__HOME__", str(home)),
                               ("__USER_SITE__", str(_user_site(home)))):
        data = data.replace(placeholder.encode(), value.encode())
    loss.write_bytes(data)
    return sub


def _home(parent: Path) -> Path:
    """A home directory anybody may write in: only the sandbox keeps the runner out of it."""
    home = parent / "home"
    home.mkdir()
    home.chmod(0o777)
    (home / ".bashrc").write_text("# the user's own\n")
    return home


def _assert_home_untouched(home: Path) -> None:
    for planted in (home / "planted-by-student.txt", home / "usercustomize-was-imported",
                    _user_site(home) / "usercustomize.py"):
        assert not planted.exists(), planted
    assert (home / ".bashrc").read_text() == "# the user's own\n"


def _check(name: str, report: Report, home: Path) -> None:
    """What holds for every scenario's report, whoever runs the grader."""
    text = report.model_dump_json()
    Report.model_validate(json.loads(text))
    score, words = EXPECTED[name]
    assert report.grader_errors == 0, _messages(report)
    assert report.score == score, _messages(report)
    if words:
        assert words in _messages(report)
    for value in SECRETS.values():
        assert value not in text
    output = report.exercises[0].output
    assert len(output) < LIMITS["output_kib"] * 1024 + 1000
    assert REACHED not in output, output
    _assert_home_untouched(home)


def _messages(report: Report) -> str:
    ex = report.exercises[0]
    return "\n".join([ex.message, *(c.message for c in ex.checks)])


@pytest.fixture(scope="module")
def grader():
    """One warm Grader for the root pass, as `grade batch` keeps one: every scenario still gets fresh runners."""
    with api.Grader() as g:
        yield g


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_attack(name, tmp_path, monkeypatch, grader):
    if name in SIGNALLING and os.geteuid() != 0 and namespaces.processes_reach_grader():
        pytest.skip(f"student code could reach this test run: {namespaces.processes_reach_grader()}")
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    before = set(_session_processes())
    outside = Path(tempfile.mkdtemp(prefix="adversarial-", dir="/tmp"))  # not under tmp_path: closed to others
    outside.chmod(0o755)
    try:
        home = _home(outside)
        sub = _submission(name, tmp_path, listener.getsockname()[1], home)
        start = time.monotonic()
        report = grader.grade(sub, exercises=[1], submission_id=name, limits=LIMITS)
        elapsed = time.monotonic() - start

        _check(name, report, home)
        assert elapsed < LIMITS["exercise_seconds"] + START_ALLOWANCE
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
        shutil.rmtree(outside, ignore_errors=True)


def test_output_attack_leaves_one_json_document_on_stdout(tmp_path):
    """`grade --json` prints exactly the judge's report, whatever the student printed."""
    sub = _submission("forged_output", tmp_path, 0, tmp_path)
    out = subprocess.run([sys.executable, "-m", "grader", "exercise", "1", "--submission", str(sub), "--json"],
                         capture_output=True, text=True, timeout=240, cwd=Path(__file__).parent.parent)
    report = Report.model_validate(json.loads(out.stdout))
    assert out.returncode == 1
    assert report.score == 0.0


@pytest.mark.timeout(600)
@pytest.mark.skipif(unprivileged.why_not() is not None, reason=f"unprivileged pass: {unprivileged.why_not()}")
def test_corpus_as_an_unprivileged_user(tmp_path):
    """The whole corpus again, in one `grade batch` run by an ordinary user of its own: one valid
    report per scenario, nothing unearned, nothing left running, and that user's other processes
    (a sentinel started before) alive and not stopped."""
    uid = unprivileged.throwaway_uid()
    home = unprivileged.owned_dir(uid, "adversarial-home-")
    work = unprivileged.owned_dir(uid, "adversarial-batch-")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    refused = unprivileged.processes_reach_grader_as(uid, home)
    if refused:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        pytest.skip(f"an ordinary user's runner cannot be kept from the grader here: {refused}")
    sentinel = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "sleep", "600"])
    try:
        (home / ".bashrc").write_text("# the user's own\n")
        batch = work / "batch"
        batch.mkdir()
        for name in EXPECTED:
            _submission(name, tmp_path, listener.getsockname()[1], home, sub=batch / name)
        for path in [work, *work.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
        out = work / "reports.jsonl"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
               "PYTHONPATH": str(unprivileged.REPO), "GRADER_TEST_LIMITS": json.dumps(LIMITS), **SECRETS}
        run = unprivileged.run_as(uid, [sys.executable, "-m", "tests.unprivileged", str(batch), str(out)],
                                  cwd=work, env=env, timeout=540)
        alive = unprivileged.processes_of(uid)
        assert run.returncode == 0, f"exit {run.returncode}\n{run.stderr[-3000:]}"
        assert "student code can reach the grader" not in run.stderr
        reports = {r["submission"]: Report.model_validate(r) for r in map(json.loads, out.read_text().splitlines())}
        assert sorted(reports) == sorted(EXPECTED)
        for name, report in sorted(reports.items()):
            assert report.environment.notes == [], (name, report.environment.notes)
            _check(name, report, home)
        with pytest.raises(BlockingIOError):
            listener.accept()
        assert alive == {sentinel.pid: alive.get(sentinel.pid)} and alive[sentinel.pid].startswith("S"), alive
    finally:
        listener.close()
        sentinel.kill()
        sentinel.wait()
        for pid in unprivileged.processes_of(uid):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


# Makes a user namespace whose limit on nested user namespaces is 0, then runs its arguments there as the
# same unprivileged uid: the grader meets a kernel that refuses it user namespaces (a hardened one, some
# containers), while the rest of the machine is unchanged.
REFUSE_USER_NAMESPACES = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
uid, gid = os.getuid(), os.getgid()
if libc.unshare(0x10000000) != 0:  # refused already: nothing to simulate
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
for path, text in (("/proc/self/setgroups", "deny"), ("/proc/self/uid_map", f"{uid} {uid} 1"),
                   ("/proc/self/gid_map", f"{gid} {gid} 1"), ("/proc/sys/user/max_user_namespaces", "0")):
    with open(path, "w") as f:
        f.write(text)
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""


@pytest.mark.skipif(unprivileged.why_not() is not None, reason=f"unprivileged run: {unprivileged.why_not()}")
def test_without_user_namespaces_the_batch_and_the_report_say_student_code_can_reach_the_grader(tmp_path):
    """Where the kernel refuses user namespaces, `grade batch` warns once on stderr and every report's
    environment.notes says that student code can reach the grader; the deadline still ends a runner
    that stopped itself."""
    uid = unprivileged.throwaway_uid()
    work = unprivileged.owned_dir(uid, "adversarial-refused-")
    try:
        batch = work / "batch"
        _submission("honest_solution", tmp_path, 0, work, sub=batch / "honest_solution")
        (batch / "stops_itself").mkdir()  # without a PID namespace it can: the judge's deadline must end it
        (batch / "stops_itself" / "loss.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\n")
        for path in [work, *work.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
        out = work / "reports.jsonl"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "LANG": "C.UTF-8",
               "PYTHONPATH": str(unprivileged.REPO), "GRADER_TEST_LIMITS": json.dumps(LIMITS)}
        run = unprivileged.run_as(uid, [sys.executable, "-c", REFUSE_USER_NAMESPACES, "-m", "tests.unprivileged",
                                        str(batch), str(out)], cwd=work, env=env, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        warnings = [line for line in run.stderr.splitlines() if "student code can reach the grader" in line]
        assert len(warnings) == 1 and warnings[0].startswith("grade batch: warning:"), run.stderr[-3000:]
        reports = {r.submission: r for r in map(Report.model_validate_json, out.read_text().splitlines())}
        assert reports["honest_solution"].score == FULL
        notes = reports["honest_solution"].environment.notes
        assert any(n.startswith("processes not isolated") and "signal, stop or trace the grader" in n
                   for n in notes), notes
        assert reports["stops_itself"].score == ZERO
        assert "did not finish importing loss.py" in _messages(reports["stops_itself"])
    finally:
        for pid in unprivileged.processes_of(uid):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)
