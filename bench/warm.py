"""A warm submission: what one `grader.api.Grader` adds to the student's own code.

Grades --submissions distinct copies of the solutions (all five exercises) with one
warm `Grader`, as a batch worker does, after one submission that warms it up (the
references of the seed are computed then, once per batch). Per exercise, medians:
the exercise's time in the report (`duration_s`), the student's own (`student_s`,
what the student's functions ran in the runner) and the difference, the grader's
overhead. For a whole submission also its CPU time: the judge's own and that of the
zygote's process tree (runners and helpers, live or reaped), which includes the
student's code. Needs a grader whose reports have `student_s`.

--compare DIR also measures another working copy (for example `git archive main |
tar -x -C DIR`): --rounds times, a Grader process of each, one after the other.

    python bench/warm.py [--submissions 5] [--rounds 1] [--compare DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _util import PY, ROOT, machine, median, verdict
from batch import make_submissions

TARGET_S = 0.3
_TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu(pid: int | None) -> float:
    """CPU seconds of a process and its descendants, live ones and those already reaped."""
    total, todo = 0.0, [pid] if pid else []
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / _TICK  # utime stime cutime cstime
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
        except (OSError, IndexError, ValueError):
            pass
    return total


def _cpu(grader) -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime, _tree_cpu(grader.zygote.pid if grader.zygote else None)


def measure(root: Path, n: int) -> list[dict]:
    """In a process of its own: grade n + 1 submissions with one Grader of `root`'s grader."""
    sys.path.insert(0, str(root))
    from grader.api import Grader

    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp, Grader() as grader:
        subs = sorted(make_submissions(Path(tmp), n + 1).iterdir())
        for i, sub in enumerate(subs):
            cpu0, start = _cpu(grader), time.perf_counter()
            report = grader.grade(sub, submission_id=sub.name)
            wall, cpu1 = time.perf_counter() - start, _cpu(grader)
            if report.score != report.max_score:
                print(f"warning: {sub.name} scored {report.score}/{report.max_score}", file=sys.stderr)
            if i == 0:
                continue  # warms the grader up: the seed's references, the zygote's import
            runs.append({"wall": wall, "judge_cpu": cpu1[0] - cpu0[0], "tree_cpu": cpu1[1] - cpu0[1],
                         "exercises": {ex.slug: (ex.duration_s, ex.student_s) for ex in report.exercises}})
    return runs


def _child(root: Path, n: int) -> list[dict]:
    out = subprocess.run([PY, str(Path(__file__).resolve()), "--child", str(root), "--submissions", str(n)],
                         cwd=root, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench/warm.py: the grader of {root} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.splitlines()[-1])


def _table(name: str, runs: list[dict]) -> float:
    print(f"\n{name}: medians of {len(runs)} submissions of all five")
    print(f"{'exercise':<18}{'grade s':>9}{'student s':>11}{'overhead s':>12}")
    for slug in runs[0]["exercises"]:
        rows = [r["exercises"][slug] for r in runs]
        print(f"{slug:<18}{median([d for d, _ in rows]):>9.2f}{median([s for _, s in rows]):>11.2f}"
              f"{median([d - s for d, s in rows]):>12.2f}")
    student = [sum(s for _, s in r["exercises"].values()) for r in runs]
    overhead = median([r["wall"] - s for r, s in zip(runs, student)])
    print(f"{'all five':<18}{median([r['wall'] for r in runs]):>9.2f}{median(student):>11.2f}{overhead:>12.2f}")
    print(f"CPU s per submission: judge {median([r['judge_cpu'] for r in runs]):.2f}, zygote tree (runners, "
          f"helpers, the student's code) {median([r['tree_cpu'] for r in runs]):.2f}, total "
          f"{median([r['judge_cpu'] + r['tree_cpu'] for r in runs]):.2f}")
    return overhead


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--submissions", type=int, default=5)
    p.add_argument("--rounds", type=int, default=1, help="with --compare: alternate the two this many times")
    p.add_argument("--compare", type=Path, help="another working copy to measure alike")
    p.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(measure(a.child, a.submissions)))
        return
    load = [os.getloadavg()[0]]
    runs: dict[str, list[dict]] = {"this copy": [], str(a.compare): []}
    for _ in range(a.rounds if a.compare else 1):
        runs["this copy"] += _child(ROOT, a.submissions)
        if a.compare:
            runs[str(a.compare)] += _child(a.compare.resolve(), a.submissions)
        load.append(os.getloadavg()[0])
    print(f"one warm Grader per copy; {machine()}; load average during the run {min(load):.1f}-{max(load):.1f}")
    overhead = _table(f"this copy ({ROOT})", runs["this copy"])
    if a.compare:
        _table(f"compared: {a.compare}", runs[str(a.compare)])
    print(f"\ngrader overhead of a warm submission: {overhead:.2f} s, target ≤ {TARGET_S} s "
          f"{verdict(overhead <= TARGET_S)}")


if __name__ == "__main__":
    main()
