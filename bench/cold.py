"""Cold grading against the floor: `python -c "import tensorflow"`.

For each exercise that exists, and for `all`: a fresh `grade exercise N
--submission solutions --json` process, against importing TensorFlow alone,
interleaved in the same run. Medians of --repeat runs.

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

from _util import GRADE, PY, Series, exercises, machine, run, verdict

TARGETS = {1: 1.3, 2: 1.3, 3: 1.3, "all": 2.5}


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
    print(f"{'command':<46}{'wall s':>8}{'cpu s':>8}{'× floor':>9}   target")
    print(f"{floor.name:<46}{floor.wall:>8.2f}{floor.cpu:>8.2f}{1:>9.2f}")
    for w in which:
        for s in (series[w], spawned.get(w), other.get(w)):
            if s is None:
                continue
            ratio = s.wall / floor.wall
            target = TARGETS.get(w)
            shown = f"≤ {target}× {verdict(ratio <= target)}" if target and s is series[w] else ""
            print(f"{s.name:<46}{s.wall:>8.2f}{s.cpu:>8.2f}{ratio:>9.2f}   {shown}")


if __name__ == "__main__":
    main()
