"""`grade watch N`: how long after a save the new report is on screen.

Starts `grade watch N` on a copy of the reference solution, waits for the first
(cold) report, then appends a comment to the file --saves times and reads each
re-grade's latency as printed by `grade watch`, and as seen from outside (from
the write to the report, including the 0.1 s polling).

    python bench/watch.py [--saves 5]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import tomllib
from pathlib import Path

from _util import GRADE, ROOT, exercises, machine, median, verdict

TARGET_S = 1.0
LINE = re.compile(r"graded in ([\d.]+) s")


def watch_latency(ex_id: int, saves: int) -> tuple[float, list[float], list[float]]:
    toml = next(t for t in (ROOT / "exercises").glob("*/exercise.toml") if tomllib.loads(t.read_text())["id"] == ex_id)
    meta = tomllib.loads(toml.read_text())
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        student = Path(tmp) / meta["file"]
        student.write_text((ROOT / "solutions" / meta["slug"] / meta["file"]).read_text())
        proc = subprocess.Popen([*GRADE, "watch", str(ex_id), "--submission", tmp], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        lines: list[tuple[float, float]] = []
        got = threading.Condition()

        def read() -> None:
            for line in proc.stderr:  # type: ignore[union-attr]
                m = LINE.search(line)
                if m:
                    with got:
                        lines.append((time.perf_counter(), float(m.group(1))))
                        got.notify()

        threading.Thread(target=read, daemon=True).start()
        try:
            start = time.perf_counter()
            with got:
                got.wait_for(lambda: len(lines) >= 1, timeout=300)
            first = time.perf_counter() - start
            printed, seen = [], []
            for i in range(saves):
                time.sleep(0.3)
                wrote = time.perf_counter()
                with student.open("a") as f:
                    f.write(f"\n# save {i}\n")
                with got:
                    got.wait_for(lambda: len(lines) >= i + 2, timeout=60)
                if len(lines) < i + 2:
                    raise RuntimeError("grade watch did not re-grade within 60 s")
                printed.append(lines[i + 1][1])
                seen.append(lines[i + 1][0] - wrote)
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    return first, printed, seen


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--saves", type=int, default=5)
    a = p.parse_args()
    rows = [(ex, *watch_latency(ex, a.saves)) for ex in exercises()]
    print(f"grade watch, medians of {a.saves} saves; {machine()}")
    print(f"{'exercise':<10}{'first report s':>16}{'re-grade s':>12}{'save→report s':>15}   target ≤ {TARGET_S} s (1-3)")
    for ex, first, printed, seen in rows:
        target = verdict(median(seen) <= TARGET_S) if ex <= 3 else ""
        print(f"{ex:<10}{first:>16.2f}{median(printed):>12.2f}{median(seen):>15.2f}   {target}")


if __name__ == "__main__":
    main()
