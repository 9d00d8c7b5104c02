"""Running the grader as an ordinary user from a test suite that runs as root (CI does).

`run_as(uid, argv, ...)` runs argv under an unprivileged uid of the test's own
(no other process on the machine has it, so a student's kill(-1) as that uid
reaches only what the test started), in a mount namespace where that uid can
reach this Python and this repository even when they live under a private
directory (/root/.pyenv): that directory is replaced by an empty one holding only
them; nothing else of the machine changes.

`python -m tests.unprivileged DIR OUT` is `grade batch DIR --out OUT --exercise 1
--jobs 1` with the limits of $GRADER_TEST_LIMITS (JSON) for every exercise: the
adversarial corpus graded by one warm worker, as that user.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from grader.api import Grader

REPO = Path(__file__).resolve().parents[1]


def throwaway_uid() -> int:
    """A uid no process and no account on the machine has (below the runners' own range)."""
    return 1_200_000_000 + secrets.randbelow(100_000_000)


@functools.cache
def why_not() -> str | None:
    """Why the unprivileged runs cannot happen here, if they cannot."""
    if not sys.platform.startswith("linux"):
        return "Linux only"
    if os.geteuid() != 0:
        return "switching to a throwaway uid needs root (CI runs as root)"
    if not shutil.which("unshare") or not shutil.which("setpriv"):
        return "needs util-linux's unshare and setpriv"
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        return "cannot make a mount namespace here (a container without CAP_SYS_ADMIN?)"
    return None


def processes_reach_grader_as(uid: int, home: Path) -> str | None:
    """What `namespaces.processes_reach_grader()` says when asked as `uid`: why its student code
    could reach the grader on this machine, or None."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "PYTHONPATH": str(REPO)}
    probe = "from grader.runner.namespaces import processes_reach_grader as p; print(p() or '')"
    run = run_as(uid, [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(REPO)!r}); {probe}"],
                 cwd=home, env=env, timeout=60)
    return run.stdout.strip() or None


def owned_dir(uid: int, prefix: str) -> Path:
    """A fresh directory in /tmp that belongs to `uid` (its home, its output)."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    os.chown(d, uid, uid)
    d.chmod(0o700)
    return d


def _closed_ancestor(path: Path) -> Path | None:
    """The top-most directory above `path` that other users cannot enter, if any."""
    return next((p for p in reversed(path.parents) if not os.stat(p).st_mode & 0o001), None)


def _exposing_script(paths: list[Path]) -> str:
    """Shell lines that make each path reachable when a directory above it is closed to others."""
    script = "set -e; mount --make-rprivate /\n"
    closed: dict[Path, set[str]] = {}
    for path in paths:
        top = _closed_ancestor(path)
        if top is not None:
            closed.setdefault(top, set()).add(path.relative_to(top).parts[0])
    for n, (top, entries) in enumerate(sorted(closed.items())):
        stash = f"/tmp/.grader-test-stash-{os.getpid()}-{n}"
        script += f"mkdir -p '{stash}'; mount -t tmpfs tmpfs '{stash}'\n"
        for entry in sorted(entries):
            kind = "mkdir" if (top / entry).is_dir() else "touch"
            script += f"{kind} '{stash}/{entry}'; mount --bind '{top / entry}' '{stash}/{entry}'\n"
        script += f"chmod 0755 '{stash}'; mount --move '{stash}' '{top}'; rmdir '{stash}'\n"
    return script


def run_as(uid: int, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float,
           expose: tuple[Path, ...] = ()) -> subprocess.CompletedProcess:
    """Run argv as `uid` (group `uid`, no supplementary groups, no capabilities)."""
    paths = [Path(p).resolve() for p in (sys.base_prefix, sys.prefix, REPO, *expose)]
    script = _exposing_script(paths) + (
        f"exec setpriv --reuid={uid} --regid={uid} --clear-groups --inh-caps=-all "
        + " ".join(shlex.quote(a) for a in argv))
    return subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def processes_of(uid: int) -> dict[int, str]:
    """Live processes of `uid`: pid -> state and command line."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid != uid:
                continue
            stat = Path(f"/proc/{name}/stat").read_bytes()
            cmd = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state = stat[stat.rfind(b")") + 2 :].split()[0].decode()
        if state != "Z":
            found[int(name)] = f"{state} {cmd[:120]}"
    return found


class LimitedGrader(Grader):
    """A warm Grader that grades under the limits of $GRADER_TEST_LIMITS (small ones keep the corpus fast)."""

    def grade(self, submission, exercises=None, seed=None, submission_id=None, limits=None):
        limits = json.loads(os.environ["GRADER_TEST_LIMITS"])
        return super().grade(submission, exercises, seed, submission_id, limits)


if __name__ == "__main__":
    from grader.batch.run import run_batch

    sys.exit(run_batch(Path(sys.argv[1]), Path(sys.argv[2]), exercises=[1], jobs=1,
                       grade_fn="tests.unprivileged:LimitedGrader"))
