"""Peak memory of a grading worker: the judge, the zygote and its runners.

Samples /proc every 50 ms while `grade exercise all --submission solutions` runs
(one worker), and, if `grade batch` exists, while a batch of --submissions runs
with --jobs 2. Reports the largest single process (RSS) and the whole process
tree at its peak (PSS: pages shared between the zygote and its forked runners
counted once), per worker.

    python bench/memory.py [--repeat 3] [--submissions 8]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from _util import GRADE, PY, Series, machine, run, verdict
from batch import batch_available, make_submissions

TARGET_MIB = 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--submissions", type=int, default=8)
    a = p.parse_args()
    rows: list[tuple[str, Series, int]] = []
    floor = Series('python -c "import tensorflow"')
    cold = Series("grade exercise all (1 worker)")
    spawned = Series("grade exercise all, spawned runners")
    for _ in range(a.repeat):
        floor.runs.append(run([PY, "-c", "import tensorflow"], memory=True))
        cold.runs.append(run([*GRADE, "exercise", "all", "--submission", "solutions"], memory=True))
        spawned.runs.append(run([*GRADE, "exercise", "all", "--submission", "solutions"], memory=True,
                                env={**os.environ, "GRADER_NO_ZYGOTE": "1"}))
    rows += [(floor.name, floor, 1), (cold.name, cold, 1), (spawned.name, spawned, 1)]
    if batch_available():
        batch = Series(f"grade batch of {a.submissions}, --jobs 2")
        with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp:
            subs = make_submissions(Path(tmp) / "subs", a.submissions)
            for i in range(a.repeat):
                batch.runs.append(run([*GRADE, "batch", str(subs), "--out", str(Path(tmp) / f"out{i}.jsonl"),
                                       "--jobs", "2"], memory=True))
        rows.append((batch.name, batch, 2))
    else:
        print("grade batch does not exist yet: batch memory skipped")

    print(f"peak memory, max over {a.repeat} runs; {machine()}")
    print(f"{'what':<40}{'largest process MiB':>21}{'tree PSS MiB':>14}{'per worker':>12}   target ≤ {TARGET_MIB} MiB/worker")
    for name, s, workers in rows:
        rss = max(r.peak_rss_mib for r in s.runs)
        pss = max(r.peak_pss_mib for r in s.runs)
        shown = verdict(pss / workers <= TARGET_MIB) if name != floor.name else ""
        print(f"{name:<40}{rss:>21.0f}{pss:>14.0f}{pss / workers:>12.0f}   {shown}")


if __name__ == "__main__":
    main()
