"""A warm submission: what one `grader.api.Grader` adds to the student's own code.

Grades --submissions distinct copies of the solutions (all five exercises) with one
warm `Grader`, as a batch worker does, after one submission that warms it up (the
references of the seed are computed then, once per batch). Per exercise, medians:
the exercise's time in the report (`duration_s`), the student's own (`student_s`,
what the student's functions ran in the runner) and the difference, the grader's
overhead. Needs a grader whose reports have `student_s`.

    python bench/warm.py [--submissions 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _util import ROOT, machine, median, verdict
from batch import make_submissions

TARGET_S = 0.3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--submissions", type=int, default=5)
    a = p.parse_args()
    sys.path.insert(0, str(ROOT))
    from grader.api import Grader

    rows: dict[str, list[tuple[float, float]]] = {}
    totals: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp, Grader() as grader:
        subs = sorted(make_submissions(Path(tmp), a.submissions + 1).iterdir())
        for i, sub in enumerate(subs):
            start = time.perf_counter()
            report = grader.grade(sub, submission_id=sub.name)
            wall = time.perf_counter() - start
            if report.score != report.max_score:
                print(f"warning: {sub.name} scored {report.score}/{report.max_score}")
            if i == 0:
                continue  # warms the grader up: the seed's references, the zygote's import
            for ex in report.exercises:
                rows.setdefault(ex.slug, []).append((ex.duration_s, ex.student_s))
            totals.append((wall, sum(ex.student_s for ex in report.exercises)))

    print(f"one warm Grader, medians of {a.submissions} submissions of all five; {machine()}")
    print(f"{'exercise':<18}{'grade s':>9}{'student s':>11}{'overhead s':>12}")
    for slug, runs in rows.items():
        d, s = median([r[0] for r in runs]), median([r[1] for r in runs])
        print(f"{slug:<18}{d:>9.2f}{s:>11.2f}{median([r[0] - r[1] for r in runs]):>12.2f}")
    wall, student = median([t[0] for t in totals]), median([t[1] for t in totals])
    overhead = median([t[0] - t[1] for t in totals])
    print(f"{'all five':<18}{wall:>9.2f}{student:>11.2f}{overhead:>12.2f}   target ≤ {TARGET_S} s "
          f"{verdict(overhead <= TARGET_S)}")


if __name__ == "__main__":
    main()
