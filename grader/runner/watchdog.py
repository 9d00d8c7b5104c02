"""Judge-side watching and cleaning up of a runner's process tree, and the limits it enforces.

The watchdog looks at the runner's tree every WATCH_EVERY seconds (memory by PSS,
process count) and kills it past its limits; processes left under the runner's own
uid are killed by uid. Nothing here imports the judge.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass


def _session_uid() -> int | None:
    """An unprivileged uid of this session's own, when the judge is root and can switch to it."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return None
    return 1_500_000_000 + secrets.randbelow(500_000_000)


def _protect_judge() -> None:
    """Make the judge's /proc files (environ: the secret seed) unreadable by same-uid runners."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
        except (OSError, AttributeError):
            pass

WATCH_EVERY = 0.2  # seconds between two looks at the runner's memory and process count


@dataclass(frozen=True)
class RunnerLimits:
    call_seconds: float = 20.0
    exercise_seconds: float = 180.0
    memory_mib: int = 3072
    output_kib: int = 64
    file_mib: int = 64
    processes: int = 512
    open_files: int = 256

    def memory_words(self) -> str:
        mib = self.memory_mib
        return f"{mib / 1024:g} GiB" if mib % 256 == 0 and mib >= 1024 else f"{mib} MiB"


@dataclass
class _Proc:
    pid: int
    state: bytes
    ppid: int
    threads: int
    start: int


def _read_proc(pid: int) -> _Proc | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        return _Proc(pid, fields[0], int(fields[1]), int(fields[17]), int(fields[19]))
    except (IndexError, ValueError):
        return None


class Watchdog:
    """The runner's process tree: everything it started, kept track of until it is killed.

    A process belongs to the session when it descends from the runner (the
    runner is a child subreaper, so orphans stay below it), was seen below it
    before (same start time: never a reused pid), or runs as the session's own
    uid. Memory is the sum of the proportional anonymous and shared memory
    (PSS) over the tree; processes are counted as threads. Zombies are neither.
    """

    def __init__(self, root: int, uid: int | None):
        self.uid = uid
        self.known: dict[int, int] = {}  # pid -> start time
        p = _read_proc(root)
        if p is not None:
            self.known[root] = p.start
        # The warden (namespaces._warden): the runner's parent outside its PID namespace. It allocates
        # nothing and starts nothing; its share of the zygote's pages is not the student's memory.
        self.warden = root if _is_warden(root) else None
        self._next = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + WATCH_EVERY
        return True

    def members(self, *, by_uid: bool = True) -> list[_Proc]:
        if not os.path.isdir("/proc"):
            return []
        procs = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                p = _read_proc(int(name))
                if p is not None:
                    procs[p.pid] = p
        children: dict[int, list[int]] = {}
        for p in procs.values():
            children.setdefault(p.ppid, []).append(p.pid)
        todo = [p.pid for p in procs.values() if self.known.get(p.pid) == p.start]
        found: set[int] = set()
        if by_uid and self.uid is not None:
            todo += [pid for pid in procs if _owner(pid) == self.uid]
        while todo:
            pid = todo.pop()
            if pid in found or pid not in procs:
                continue
            found.add(pid)
            todo += children.get(pid, [])
        for pid in found:
            self.known[pid] = procs[pid].start
        return [procs[pid] for pid in found if procs[pid].state != b"Z"]

    def over(self, limits: RunnerLimits) -> str | None:
        """Which limit the tree is over right now, if any."""
        members = [p for p in self.members(by_uid=False) if p.pid != self.warden]  # by pid: the subreaper keeps orphans
        if sum(p.threads for p in members) > limits.processes:
            return "processes"
        limit = limits.memory_mib * 1024
        # Resident anonymous and shared memory bounds the PSS from above and costs a counter read;
        # PSS walks the page tables (~20 ms for a runner with TensorFlow), so only near the limit.
        if sum(_resident_kib(p.pid) for p in members) > limit * 7 // 8 and sum(_memory_kib(p.pid) for p in members) > limit:
            return "memory"
        return None

    def kill_all(self) -> None:
        """SIGKILL the whole tree, until nothing is left of it (a fork bomb may race a few rounds).

        The first round kills what it found by pid: usually just the runner, and that is
        all. Any later round also kills by uid, which closes the race with a process that
        forks faster than its tree can be read (it costs starting a process, ~20 ms).
        """
        for round_ in range(20):
            # The warden is spared: it reaps the runner (so its CPU time is accounted) and ends by itself.
            members = [p for p in self.members() if p.pid not in (os.getpid(), self.warden)]
            if not members:
                return
            if self.uid is not None and round_ > 0:
                _kill_uid(self.uid)
            for p in members:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)


def _is_warden(pid: int) -> bool:
    """True for a process whose children go to another PID namespace than its own (it unshared one)."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid") != os.readlink(f"/proc/{pid}/ns/pid_for_children")
    except OSError:
        return False


def _owner(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _resident_kib(pid: int) -> int:
    """Resident anonymous and shared memory: at least `_memory_kib`, read from counters, not page tables."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            return sum(int(line.split()[1]) for line in f if line.startswith((b"RssAnon:", b"RssShmem:")))
    except (OSError, ValueError, IndexError):
        return 0


def _memory_kib(pid: int) -> int:
    """The process's share of anonymous and shared memory (PSS: forked copies are not counted twice)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            return sum(int(line.split()[1]) for line in f if line.startswith((b"Pss_Anon:", b"Pss_Shmem:")))
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            return sum(int(line.split()[1]) for line in f if line.startswith(b"RssAnon:"))
    except (OSError, ValueError, IndexError):
        return 0


def _kill_uid(uid: int) -> None:
    """kill(-1, SIGKILL) as the session's uid: every process it owns, wherever it was reparented."""
    try:
        subprocess.run([sys.executable, "-I", "-S", "-c", "import os, signal; os.kill(-1, signal.SIGKILL)"],
                       user=uid, group=uid, extra_groups=[], env={}, cwd="/", timeout=10,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        pass
