"""Process trees: find every descendant of a worker and kill them all.

The grader's runner starts student code in a session of its own, so killing a
worker's process group alone would leave a hanging student process behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (Linux /proc; elsewhere none are found)."""
    children: dict[int, list[int]] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat_file.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(stat_file.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill(pid: int) -> None:
    """SIGKILL `pid`'s process group and `pid` itself; quietly, if either is gone."""
    for k in (os.killpg, os.kill):
        try:
            k(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def kill_tree(pid: int) -> None:
    """SIGKILL `pid`'s process group and every descendant's group, deepest first."""
    for target in [*reversed(descendants(pid)), pid]:
        kill(target)


def kill_and_reap(proc: subprocess.Popen) -> None:
    """Kill a worker started in a session of its own, with everything below it, and reap it."""
    if proc.poll() is None:
        kill_tree(proc.pid)
    else:  # the worker has ended: its process group may still hold processes it started
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    proc.wait()


def signal_word(returncode: int | None) -> str:
    """How a process ended, in words: `killed by SIGKILL`, `exit status 1`."""
    if returncode is None:
        return "no exit status"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"
