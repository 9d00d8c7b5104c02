"""Start-up of the commands that grade nothing: `grade --help`, `grade list`, `grade hint`.

Each must answer without importing TensorFlow (or NumPy, pytest), within 0.5 s.

    python bench/startup.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import re

from _util import GRADE, PY, Series, machine, run, verdict

COMMANDS = [["--help"], ["list"], ["hint", "1", "--level", "1"], ["schema"]]
HEAVY = ("tensorflow", "keras", "numpy", "pytest")
TARGET_S = 0.5


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=10)
    a = p.parse_args()
    python = Series("python -c pass")
    series = [Series("grade " + " ".join(c)) for c in COMMANDS]
    for _ in range(a.repeat):
        python.runs.append(run([PY, "-c", "pass"]))
        for c, s in zip(COMMANDS, series):
            s.runs.append(run([*GRADE, *c]))
    heavy = {}
    for c, s in zip(COMMANDS, series):
        err = run([PY, "-X", "importtime", "-m", "grader", *c]).stderr
        heavy[s.name] = [m for m in HEAVY if re.search(rf"\|\s+{m}$", err, re.M)]

    print(f"start-up, medians of {a.repeat} runs; {machine()}")
    print(f"{'command':<32}{'wall s':>8}{'cpu s':>8}{'× python':>10}   heavy imports   target ≤ {TARGET_S} s, no TensorFlow")
    print(f"{python.name:<32}{python.wall:>8.3f}{python.cpu:>8.3f}{1:>10.1f}")
    for s in series:
        ok = s.wall <= TARGET_S and not heavy[s.name]
        print(f"{s.name:<32}{s.wall:>8.3f}{s.cpu:>8.3f}{s.wall / python.wall:>10.1f}   "
              f"{', '.join(heavy[s.name]) or 'none':<15} {verdict(ok)}")


if __name__ == "__main__":
    main()
