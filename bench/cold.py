"""Cold grading against the floor: `python -c "import tensorflow"`.

For each exercise that exists, and for `all`: a fresh `grade exercise N
--submission solutions --json` process, against importing TensorFlow alone,
interleaved in the same run. Medians of --repeat runs: wall and CPU time (user +
system of the whole process tree), both as ratios to the floor, and the
student's own time from the report (`student_s`; 0 for a grader without it).

    python bench/cold.py [--repeat 5] [--spawn] [--compare DIR]

--spawn also measures the runners spawned one by one (GRADER_NO_ZYGOTE=1), the way
before the zygote; --compare DIR also measures another working copy (for example
`git archive main | tar -x -C DIR`), interleaved in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from _util import GRADE, PY, Series, exercises, machine, median, run, verdict

# (wall, CPU) ratios to the floor; exercises 4-5: wall <= floor + the student's own time + 0.5 s.
TARGETS = {1: (1.1, 1.25), 2: (1.1, 1.25), 3: (1.1, 1.25), "all": (2.0, 2.5)}
SLACK_S = 0.5


def _student_s(r) -> float:
    """The student's own time in a run, from its report (0 when the report has none)."""
    try:
        return sum(float(ex.get("student_s", 0.0)) for ex in json.loads(r.stdout)["exercises"])
    except (ValueError, KeyError, TypeError):
        return 0.0


def _target(w, s, floor) -> str:
    if w in TARGETS:
        wall, cpu = TARGETS[w]
        return f"wall ≤ {wall}× {verdict(s.wall / floor.wall <= wall)}, CPU ≤ {cpu}× {verdict(s.cpu / floor.cpu <= cpu)}"
    student = median([_student_s(r) for r in s.runs])
    limit = floor.wall + student + SLACK_S
    return f"wall ≤ floor + student {student:.2f} s + {SLACK_S} s = {limit:.2f} s {verdict(s.wall <= limit)}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--spawn", action="store_true", help="also measure without the zygote")
    p.add_argument("--compare", type=Path, help="another working copy to measure alike")
    a = p.parse_args()

    which: list = [*exercises(), "all"]
    floor = Series('python -c "import tensorflow"')
    series = {w: Series(f"grade exercise {w}") for w in which}
    spawned = {w: Series(f"grade exercise {w} (spawned runners)") for w in which} if a.spawn else {}
    other = {w: Series(f"grade exercise {w} ({a.compare.name})") for w in which} if a.compare else {}
    no_zygote = {**os.environ, "GRADER_NO_ZYGOTE": "1"}
    for _ in range(a.repeat):  # interleaved, so a busy moment hits every series alike
        floor.runs.append(run([PY, "-c", "import tensorflow"]))
        for w in which:
            r = run([*GRADE, "exercise", str(w), "--submission", "solutions", "--json"])
            report = json.loads(r.stdout) if r.stdout.strip() else {}
            if r.returncode != 0 or report.get("score") != report.get("max_score"):
                print(f"warning: grade exercise {w} exited {r.returncode}, score {report.get('score')}/{report.get('max_score')}")
            series[w].runs.append(r)
            if a.spawn:
                spawned[w].runs.append(run([*GRADE, "exercise", str(w), "--submission", "solutions", "--json"],
                                           env=no_zygote))
            if a.compare:
                other[w].runs.append(run([*GRADE, "exercise", str(w), "--submission", "solutions", "--json"],
                                         cwd=a.compare))

    print(f"cold grading, medians of {a.repeat} runs; {machine()}")
    print(f"{'command':<46}{'wall s':>8}{'cpu s':>8}{'wall ×':>8}{'cpu ×':>8}{'student s':>11}   target")
    print(f"{floor.name:<46}{floor.wall:>8.2f}{floor.cpu:>8.2f}{1:>8.2f}{1:>8.2f}")
    for w in which:
        for s in (series[w], spawned.get(w), other.get(w)):
            if s is None:
                continue
            shown = _target(w, s, floor) if s is series[w] else ""
            student = median([_student_s(r) for r in s.runs])
            print(f"{s.name:<46}{s.wall:>8.2f}{s.cpu:>8.2f}{s.wall / floor.wall:>8.2f}{s.cpu / floor.cpu:>8.2f}"
                  f"{student:>11.2f}   {shown}")


if __name__ == "__main__":
    main()
