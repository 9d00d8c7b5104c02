"""The runner sees an allow-list of the file system: no copy of a solution outside it is reachable.

Decoys (a correct loss.py) are planted in the machine's /tmp, in the home directory, beside
the batch directory, in a second clone of this repository (with an instructor's solved
exercises/), and as another student's submission in the same batch. The student file
tests/sandbox_fs/seek_decoys.py checks each by name and searches everywhere else; run
unsandboxed it finds them all, graded it finds none, scores 0 and prints that each planted
path is absent. As an unprivileged user the runner is either isolated the same way or the
report's environment.notes says the file system is not isolated.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(300),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the runner's own root is Linux only")]

REPO = Path(__file__).resolve().parents[1]
ATTACK = Path(__file__).with_name("sandbox_fs") / "seek_decoys.py"
SOLUTION = REPO / "solutions" / "ex1_loss" / "loss.py"
NOBODY = 65534
NOT_ISOLATED = "the file system is not isolated"


def _world_readable_dir(prefix: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    d.chmod(0o755)  # so only the sandbox, never a permission, keeps another uid out
    return d


def _plant(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOLUTION, path)
    for p in [path, *path.parents]:
        if p == Path("/tmp") or p == Path.home():
            break
        p.chmod(0o755 if p.is_dir() else 0o644)
    return path


@pytest.fixture(scope="module")
def decoys():
    """Every place a solved loss.py may lie around; yields (planted paths, batch dir, work dirs)."""
    made: list[Path] = []
    tmp = _world_readable_dir("decoy-tmp-")
    outer = _world_readable_dir("decoy-batch-parent-")
    clone = _world_readable_dir("decoy-clone-")
    home = Path.home() / f".decoy-home-{os.getpid()}"
    made += [tmp, outer, clone, home]
    planted = [
        _plant(tmp / "solutions" / "ex1_loss" / "loss.py"),
        _plant(tmp / "loss.py"),
        _plant(home / "solutions" / "ex1_loss" / "loss.py"),
        _plant(outer / "solutions" / "ex1_loss" / "loss.py"),
        _plant(outer / "backup" / "loss.py"),
    ]
    subprocess.run(["git", "clone", "-q", "--local", str(REPO), str(clone / "repo")], check=True)
    planted.append(clone / "repo" / "solutions" / "ex1_loss" / "loss.py")
    planted.append(_plant(clone / "repo" / "exercises" / "ex1_loss" / "loss.py"))  # an instructor's solved stub
    planted.append(SOLUTION)  # and the grader's own repository
    batch = outer / "batch"
    planted.append(_plant(batch / "alice" / "loss.py"))  # another student's correct work
    mallory = batch / "mallory"
    mallory.mkdir()
    source = ATTACK.read_text().replace("__PLANTED__", repr([str(p) for p in planted]))
    (mallory / "loss.py").write_text(source)
    for p in (batch, mallory, mallory / "loss.py", clone / "repo"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    yield planted, batch
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


def _assert_nothing_reached(output: str, planted: list[Path]) -> None:
    for path in planted:
        assert f"PLANTED {path} absent via /proc/1/root: absent" in output, output
    assert "FOUND 0 solved loss.py files" in output, output


def test_the_search_finds_every_decoy_when_nothing_isolates_it(decoys):
    planted, batch = decoys
    run = subprocess.run([sys.executable, str(batch / "mallory" / "loss.py")], cwd=batch / "mallory",
                         capture_output=True, text=True, timeout=120)
    out = run.stdout
    assert run.returncode == 0, run.stderr
    for path in planted:
        assert f"PLANTED {path} exists" in out
        if path != SOLUTION:  # the grader's own repository may lie anywhere; the decoys are where it looks
            assert f"FOUND {path}" in out


@pytest.mark.skipif(os.geteuid() != 0, reason="the batch as root: run the suite as root (CI does)")
def test_batch_runner_reaches_no_decoy_nor_another_students_work(decoys, tmp_path):
    planted, batch = decoys
    out = tmp_path / "out.jsonl"
    run = subprocess.run([sys.executable, "-m", "grader", "batch", str(batch), "--out", str(out), "--exercise", "1",
                          "--jobs", "1"], cwd=REPO, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    reports = {r["submission"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert reports["alice"]["score"] == 10.0
    mallory = reports["mallory"]
    assert mallory["score"] == 0.0
    assert mallory["environment"]["notes"] == []
    _assert_nothing_reached(mallory["exercises"][0]["output"], planted)


def _as_nobody(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run argv as an unprivileged uid, in a mount namespace where it can reach this Python.

    Python may be installed under /root (pyenv): there, /root is replaced by an empty
    directory holding only the Python installation; nothing else of the machine changes.
    """
    prefix = Path(sys.base_prefix).resolve()
    closed = next((p for p in reversed(prefix.parents) if not os.stat(p).st_mode & 0o001), None)
    stash = _world_readable_dir("decoy-stash-")
    script = "set -e; mount --make-rprivate /\n"
    if closed is not None:
        inner = prefix.relative_to(closed).parts[0]
        script += (f"mount --bind '{closed / inner}' '{stash}'; mount -t tmpfs -o mode=0755 tmpfs '{closed}'\n"
                   f"mkdir '{closed / inner}'; mount --move '{stash}' '{closed / inner}'\n")
    script += (f"exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups --inh-caps=-all "
               + " ".join(f"'{a}'" for a in argv))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "TMPDIR": "/tmp",
           "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"}
    try:
        return subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=240)
    finally:
        shutil.rmtree(stash, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to an unprivileged uid needs root (CI runs as root)")
@pytest.mark.skipif(not shutil.which("unshare") or not shutil.which("setpriv"), reason="needs util-linux")
def test_unprivileged_runner_is_isolated_or_says_it_is_not(decoys):
    planted, batch = decoys
    cwd = _world_readable_dir("decoy-nobody-")
    try:
        os.chown(cwd, NOBODY, NOBODY)
        run = _as_nobody([sys.executable, "-m", "grader", "exercise", "1", "--submission", str(batch / "mallory"),
                          "--json"], cwd)
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    assert run.returncode in (0, 1), run.stderr[-3000:]
    report = json.loads(run.stdout)
    notes = "\n".join(report["environment"]["notes"])
    if NOT_ISOLATED in notes:  # then the attack may well have found a decoy: the report says so
        pytest.skip(f"the runner could not isolate the file system as an unprivileged user, and says so: {notes}")
    assert report["score"] == 0.0
    assert notes == ""
    # A user namespace made it possible: the runner built its own root (without /proc)
    _assert_nothing_reached(report["exercises"][0]["output"], planted)
