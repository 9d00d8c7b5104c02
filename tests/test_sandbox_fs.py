"""The runner sees an allow-list of the file system: no copy of a solution outside it is reachable.

Decoys (a correct loss.py) are planted in the machine's /tmp, in the home directory, beside
the batch directory, in a second clone of this repository (with an instructor's solved
exercises/), and as another student's submission in the same batch. The student file
tests/sandbox_fs/seek_decoys.py checks each by name and searches everywhere else; run
unsandboxed it finds them all, graded it finds none, scores 0 and prints that each planted
path is absent. As an unprivileged user the runner is either isolated the same way or the
report's environment.notes says the file system is not isolated. It runs as a throwaway uid of
the test's own (tests/unprivileged.py).
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

from tests import unprivileged

pytestmark = [pytest.mark.timeout(300),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the runner's own root is Linux only")]

REPO = Path(__file__).resolve().parents[1]
ATTACK = Path(__file__).with_name("sandbox_fs") / "seek_decoys.py"
SOLUTION = REPO / "solutions" / "ex1_loss" / "loss.py"
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


@pytest.mark.skipif(unprivileged.why_not() is not None, reason=f"unprivileged run: {unprivileged.why_not()}")
def test_unprivileged_runner_is_isolated_or_says_it_is_not(decoys):
    planted, batch = decoys
    uid = unprivileged.throwaway_uid()
    cwd = unprivileged.owned_dir(uid, "decoy-user-")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "TMPDIR": "/tmp",
           "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"}
    try:
        run = unprivileged.run_as(uid, [sys.executable, "-m", "grader", "exercise", "1", "--submission",
                                        str(batch / "mallory"), "--json"], cwd=cwd, env=env, timeout=240)
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    assert run.returncode in (0, 1), run.stderr[-3000:]
    report = json.loads(run.stdout)
    notes = "\n".join(report["environment"]["notes"])
    if NOT_ISOLATED in notes:  # then the attack may well have found a decoy: the report says so
        pytest.skip(f"the runner could not isolate the file system as an unprivileged user, and says so: {notes}")
    assert report["score"] == 0.0
    assert notes == ""
    # A user namespace made it possible: the runner built its own root, with a /proc of its own PID namespace
    _assert_nothing_reached(report["exercises"][0]["output"], planted)
