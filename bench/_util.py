"""Shared helpers for the benchmark scripts: run a command, time it, watch its memory.

Benchmarks, not tests: each script prints its figures and their ratios side by
side, from one run of the script (medians over repeats).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
GRADE = [PY, "-m", "grader"]


@dataclass
class Run:
    wall: float
    cpu: float  # user + sys of the command and everything it waited for
    returncode: int
    peak_rss_mib: float = 0.0  # the largest single process
    peak_pss_mib: float = 0.0  # the whole process tree at its peak (shared pages counted once)
    stdout: str = ""
    stderr: str = ""


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return pids


def _memory(pid: int) -> tuple[float, float]:
    """(largest RSS, total PSS) of the process tree under `pid`, in MiB."""
    rss, pss = 0, 0
    for p in _tree(pid):
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()[1:])
        except (OSError, ValueError):
            continue
        rss = max(rss, int(fields["Rss"].split()[0]))
        pss += int(fields["Pss"].split()[0])
    return rss / 1024, pss / 1024


class _Sampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.rss = self.pss = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            rss, pss = _memory(self.pid)
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            self.done.wait(self.every)


def run(cmd: list[str], *, memory: bool = False, cwd: Path = ROOT, env: dict | None = None,
        timeout: float = 1800) -> Run:
    """Run `cmd` to the end; wall time, CPU time and, if asked, peak memory of its process tree."""
    cpu0 = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = None
    if memory:
        sampler = _Sampler(proc.pid)
        sampler.start()
    out, err = proc.communicate(timeout=timeout)
    wall = time.perf_counter() - start
    if sampler:
        sampler.done.set()
        sampler.join()
    return Run(wall, _children_cpu() - cpu0, proc.returncode, sampler.rss if sampler else 0.0,
               sampler.pss if sampler else 0.0, out, err)


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


@dataclass
class Series:
    name: str
    runs: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return median([r.wall for r in self.runs])

    @property
    def cpu(self) -> float:
        return median([r.cpu for r in self.runs])


def machine() -> str:
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    note = f"  (busy: load {load:.1f} on {cores} cores; figures are noisy)" if load > 0.5 * cores else ""
    return f"{cores} cores, load average {load:.2f}, Python {sys.version.split()[0]}{note}"


def exercises() -> list[int]:
    """The exercise numbers that exist in this working copy right now."""
    import tomllib

    ids = []
    for toml in sorted((ROOT / "exercises").glob("*/exercise.toml")):
        ids.append(int(tomllib.loads(toml.read_text())["id"]))
    return sorted(ids)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"
