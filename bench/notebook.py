"""`check(N)` in a real Jupyter kernel: the first check, then the warm ones (target: ≤ 1 s for 1-3).

Starts one kernel (nbclient + ipykernel), defines the reference solution of each exercise in
a cell, as a student would, and times `check(N)` inside the kernel: the first check of the
session (it starts the warm helper, which imports TensorFlow), then `--repeat` more.
Each line also gives the grader's own `duration_s`, to show what the kernel side adds.

    python bench/notebook.py [--exercises 1,2,3] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import tomllib

from _util import ROOT, machine, median, verdict

TARGET_S = 1.0
TIMER = """
import json, time
times = []
for _ in range({runs}):
    started = time.perf_counter()
    result = check({id})
    times.append([time.perf_counter() - started, result.report["duration_s"], result.report["score"]])
print("TIMES", json.dumps(times))
"""


def solution_cell(slug: str, file: str) -> str:
    source = (ROOT / "solutions" / slug / file).read_text()
    return source.split('"""', 2)[2] if source.lstrip().startswith('"""') else source


def main() -> None:
    import nbclient
    import nbformat

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--exercises", default="1,2,3")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    wanted = [int(n) for n in args.exercises.split(",")]
    metas = {m["id"]: m for m in (tomllib.loads(t.read_text()) for t in (ROOT / "exercises").glob("*/exercise.toml"))}

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from grader import check")]
    for n in wanted:
        nb.cells += [nbformat.v4.new_code_cell(solution_cell(metas[n]["slug"], metas[n]["file"])),
                     nbformat.v4.new_code_cell(TIMER.format(id=n, runs=1 + args.repeat))]
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()

    print(machine())
    print(f"{'exercise':<10}{'first check':>13}{'warm check (median)':>22}{'of which grading':>19}{'target':>9}")
    first_of_session = True
    for n, cell in zip(wanted, nb.cells[2::2]):
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        times = json.loads(next(line for line in text.splitlines() if line.startswith("TIMES "))[6:])
        first, warm = times[0], times[1:]
        label = "(starts helper)" if first_of_session else ""
        first_of_session = False
        wall, graded = median([t[0] for t in warm]), median([t[1] for t in warm])
        print(f"{n:<10}{first[0]:>8.2f} s {label:<4}{wall:>13.2f} s{graded:>15.2f} s"
              f"   ≤ {TARGET_S:g} s {verdict(wall <= TARGET_S)}  (score {first[2]:g})")


if __name__ == "__main__":
    main()
