"""`grade exercise all` inside Gradescope's default container limits: 768 MB of memory, 0.5 CPU.

Runs `grade exercise all --submission solutions --json` in a fresh cgroup made for the
run: cgroup v2 (memory.max 768M, cpu.max "50000 100000") where the machine offers its
memory and cpu controllers, else cgroup v1 (memory.limit_in_bytes 768M and, when
there is swap, memory.memsw.limit_in_bytes too; cpu.cfs_quota_us 50000 of
cpu.cfs_period_us 100000), the same limits. The cgroup is nested under this
process's own cgroups and removed afterwards. Needs root; says so and stops when the
machine does not allow it.

Prints per run: wall time, the cgroup's peak memory (page cache included, as the
container's limit counts it), the process tree's peak PSS, whether the kernel
killed a process for memory (OOM) and the score.

    sudo python bench/container.py [--repeat 3] [--compare DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from pathlib import Path

from _util import GRADE, ROOT, machine, median, run, verdict

MEMORY = 768 * 1024 * 1024
CPU_QUOTA, CPU_PERIOD = 50000, 100000
TARGET_S = 30.0
ROOT_V1 = Path("/sys/fs/cgroup")


def _own(controller: str) -> str | None:
    """This process's cgroup path for a v1 controller ("" for v2: "0::"), or None."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (controller == "" and controllers == ""):
            return path
    return None


def _v2_root() -> Path | None:
    for line in Path("/proc/mounts").read_text().splitlines():
        _, where, kind, *_ = line.split()
        if kind == "cgroup2":
            return Path(where)
    return None


class Cgroup:
    """One cgroup (v2) or a memory and a cpu cgroup (v1) with the container's limits."""

    def __init__(self, name: str):
        self.name = name
        self.dirs: list[Path] = []
        self.version = 0
        self.why_not = ""

    def create(self) -> bool:
        if os.geteuid() != 0:
            self.why_not = "not root: run it as root (sudo) to create a cgroup"
            return False
        errors = []
        for make in (self._v2, self._v1):
            try:
                make()
                return True
            except OSError as e:
                errors.append(f"{make.__name__.strip('_')}: {e}")
                self.remove()
        self.why_not = "; ".join(errors)
        return False

    def _v2(self) -> None:
        root, own = _v2_root(), _own("")
        if root is None or own is None:
            raise OSError("no cgroup2 mount")
        parent = root / own.lstrip("/")
        available = set((parent / "cgroup.controllers").read_text().split())
        if not {"memory", "cpu"} <= available:
            raise OSError(f"the memory and cpu controllers are not available in {parent} (only {sorted(available)})")
        (parent / "cgroup.subtree_control").write_text("+memory +cpu")
        d = parent / self.name
        d.mkdir()
        self.dirs = [d]
        (d / "memory.max").write_text(str(MEMORY))
        if (d / "memory.swap.max").exists():
            (d / "memory.swap.max").write_text("0")
        (d / "cpu.max").write_text(f"{CPU_QUOTA} {CPU_PERIOD}")
        self.version = 2

    def _v1(self) -> None:
        mem_own, cpu_own = _own("memory"), _own("cpu")
        if mem_own is None or cpu_own is None or not (ROOT_V1 / "memory").is_dir():
            raise OSError("no cgroup v1 memory and cpu hierarchies")
        mem = ROOT_V1 / "memory" / mem_own.lstrip("/") / self.name
        cpu = ROOT_V1 / "cpu" / cpu_own.lstrip("/") / self.name
        mem.mkdir()
        self.dirs = [mem]
        cpu.mkdir()
        self.dirs.append(cpu)
        (mem / "memory.limit_in_bytes").write_text(str(MEMORY))
        if (mem / "memory.memsw.limit_in_bytes").exists():
            (mem / "memory.memsw.limit_in_bytes").write_text(str(MEMORY))  # no swap beyond the limit
        (cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD))
        (cpu / "cpu.cfs_quota_us").write_text(str(CPU_QUOTA))
        self.version = 1

    def command(self, cmd: list[str]) -> list[str]:
        """`cmd`, entering the cgroup(s) before it starts."""
        enter = " && ".join(f"echo $$ > {d / 'cgroup.procs'}" for d in self.dirs)
        return ["sh", "-c", f'{enter} && exec "$@"', "sh", *cmd]

    def peak_mib(self) -> float:
        d = self.dirs[0]
        for name in ("memory.peak", "memory.max_usage_in_bytes"):
            if (d / name).exists():
                return int((d / name).read_text()) / 2**20
        return float("nan")

    def oom_kills(self) -> int:
        d = self.dirs[0]
        text = (d / ("memory.events" if self.version == 2 else "memory.oom_control")).read_text()
        return sum(int(line.split()[1]) for line in text.splitlines() if line.split()[0] == "oom_kill")

    def remove(self) -> None:
        for d in self.dirs:
            for _ in range(50):
                pids = [int(p) for p in (d / "cgroup.procs").read_text().split()] if d.exists() else []
                for pid in pids:  # whatever the run left behind, and only that
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
        self.dirs = []


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--compare", type=Path, help="another working copy to measure alike")
    a = p.parse_args()

    copies = [("this copy", ROOT)] + ([(a.compare.name, a.compare)] if a.compare else [])
    rows: dict[str, list[tuple]] = {name: [] for name, _ in copies}
    version = 0
    for i in range(a.repeat):
        for name, where in copies:
            cgroup = Cgroup(f"grader-bench-{os.getpid()}-{i}")
            if not cgroup.create():
                print(f"cannot limit the run on this machine: {cgroup.why_not}")
                raise SystemExit(1)
            version = cgroup.version
            try:
                r = run(cgroup.command([*GRADE, "exercise", "all", "--submission", "solutions", "--json"]),
                        memory=True, cwd=where)
                peak, kills = cgroup.peak_mib(), cgroup.oom_kills()
            finally:
                cgroup.remove()
            try:
                report = json.loads(r.stdout)
                score = f"{report['score']:g}/{report['max_score']:g}"
            except (ValueError, KeyError):
                score = f"no report (exit {r.returncode})"
            killed = kills > 0 or r.returncode < 0
            rows[name].append((r.wall, r.cpu, peak, r.peak_pss_mib, kills, killed, score))

    print(f"grade exercise all --submission solutions under 768 MiB and 0.5 CPU (cgroup v{version}); {machine()}")
    print(f"{'copy':<14}{'run':>4}{'wall s':>8}{'cpu s':>8}{'cgroup peak MiB':>17}{'tree PSS MiB':>14}"
          f"{'OOM kills':>11}   score")
    for name, runs in rows.items():
        for i, (wall, cpu, peak, pss, kills, killed, score) in enumerate(runs):
            print(f"{name:<14}{i + 1:>4}{wall:>8.1f}{cpu:>8.1f}{peak:>17.0f}{pss:>14.0f}{kills:>11}   {score}"
                  f"{'  KILLED' if killed else ''}")
    ours = rows["this copy"]
    never_killed = not any(r[5] for r in ours)
    wall = median([r[0] for r in ours])
    print(f"this copy: never killed {verdict(never_killed)}; median wall {wall:.1f} s ≤ {TARGET_S:g} s "
          f"{verdict(wall <= TARGET_S)}")


if __name__ == "__main__":
    main()
