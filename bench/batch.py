"""Batch grading against the naive way.

Grades --submissions distinct submissions (the reference solutions of every exercise
that exists, each file with a comment that makes it unique, so no report is reused)
two ways, two at a time:
  naive  a fresh `grade exercise all --submission S --json` process per submission;
  batch  `grade batch DIR --out FILE --jobs 2` (each job slot a long-lived worker
         holding one warm `grader.api.Grader`);
  warm   (for reference) --jobs bare processes, each grading its share with one
         `grader.api.Grader`, without the batch's durability and isolation machinery.
--compare DIR also runs `grade batch` from another working copy (for example
`git archive main | tar -x -C DIR`) in the same run, for before/after figures.
Prints total time, marginal seconds per submission ((T(n) - T(few)) / (n - few))
and the ratio. Skips with a message while `grade batch` does not exist.

    python bench/batch.py [--submissions 40] [--few 4] [--jobs 2] [--compare DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _util import GRADE, PY, ROOT, _children_cpu, machine, run, verdict

TARGET = 10.0


def batch_available() -> bool:
    return subprocess.run([*GRADE, "batch", "--help"], cwd=ROOT, capture_output=True).returncode == 0


def make_submissions(where: Path, n: int) -> Path:
    """n submissions, each every exercise's solution at its exercise path, all different."""
    files = sorted((ROOT / "solutions").glob("*/*.py"))
    for i in range(n):
        for f in files:
            dest = where / f"student{i:03d}" / f.parent.name / f.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(f.read_text() + f"\n# submission {i}\n")
    return where


def naive(subs: list[Path], jobs: int) -> tuple[float, float]:
    cpu0, start = _children_cpu(), time.perf_counter()

    def one(sub: Path) -> None:
        r = run([*GRADE, "exercise", "all", "--submission", str(sub), "--json"])
        if r.returncode not in (0, 1):
            print(f"warning: {sub.name}: exit {r.returncode}")
        elif r.returncode == 1:
            print(f"warning: {sub.name}: a solution lost points in a fresh process (figures not comparable)")

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, subs))
    return time.perf_counter() - start, _children_cpu() - cpu0


def batch(directory: Path, out: Path, jobs: int, cwd: Path = ROOT) -> tuple[float, float]:
    r = run([*GRADE, "batch", str(directory), "--out", str(out), "--jobs", str(jobs)], cwd=cwd)
    if r.returncode != 0:
        print(f"warning: grade batch exited {r.returncode}: {r.stderr[-500:]}")
    lost = [r["submission"] for r in _reports(out) if r["score"] < r["max_score"]]
    if lost:
        print(f"warning: {cwd.name}: solutions lost points in grade batch (figures not comparable): {lost}")
    return r.wall, r.cpu


WARM_WORKER = """
import sys
from pathlib import Path
from grader.api import Grader
with Grader() as grader:
    for path in sys.argv[1:]:
        grader.grade(Path(path), submission_id=Path(path).name)
"""


def warm(subs: list[Path], jobs: int) -> tuple[float, float]:
    cpu0, start = _children_cpu(), time.perf_counter()
    shares = [subs[i::jobs] for i in range(jobs)]
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda share: run([PY, "-c", WARM_WORKER, *map(str, share)]), shares))
    return time.perf_counter() - start, _children_cpu() - cpu0


def _reports(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def _scores(out: Path) -> list[tuple[str, float]]:
    return [(r["submission"], r["score"]) for r in _reports(out)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--submissions", type=int, default=40)
    p.add_argument("--few", type=int, default=4, help="the small batch the marginal cost is taken against")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--compare", type=Path, help="another working copy whose `grade batch` to measure alike")
    a = p.parse_args()
    if not batch_available():
        print("bench/batch.py: `grade batch` does not exist in this working copy yet; nothing to measure.")
        return

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        subs = make_submissions(root / "all", a.submissions)
        few = root / "few"
        few.mkdir()
        for s in sorted(subs.iterdir())[: a.few]:
            shutil.copytree(s, few / s.name)
        entries = sorted(subs.iterdir())
        results = {
            "naive": (naive(entries[: a.few], a.jobs), naive(entries, a.jobs)),
            "batch": (batch(few, root / "few.jsonl", a.jobs), batch(subs, root / "all.jsonl", a.jobs)),
            "warm": (warm(entries[: a.few], a.jobs), warm(entries, a.jobs)),
        }
        if a.compare:
            other = a.compare.resolve()
            results[a.compare.name[:8]] = (batch(few, root / "few-other.jsonl", a.jobs, other),
                                           batch(subs, root / "all-other.jsonl", a.jobs, other))
            for name in ("few", "all"):
                mine, theirs = root / f"{name}.jsonl", root / f"{name}-other.jsonl"
                differ = sorted(set(_scores(mine)) ^ set(_scores(theirs)))
                if differ:
                    print(f"warning: the two working copies gave different scores on the {name} batch: {differ}")

    n, k = a.submissions, a.few
    print(f"{n} submissions (every exercise's solution), {a.jobs} at a time; {machine()}")
    print(f"{'way':<8}{'total s':>9}{'cpu s':>9}{'s/submission':>14}{'marginal s/sub':>16}")
    marginal = {}
    for way, ((t_few, _), (t_all, cpu_all)) in results.items():
        marginal[way] = (t_all - t_few) / (n - k)
        print(f"{way:<8}{t_all:>9.1f}{cpu_all:>9.1f}{t_all / n:>14.2f}{marginal[way]:>16.2f}")
    ratio_total = results["naive"][1][0] / results["batch"][1][0]
    ratio_marginal = marginal["naive"] / marginal["batch"]
    print(f"batch is {ratio_total:.1f}× faster in total, {ratio_marginal:.1f}× per marginal submission "
          f"(target ≥ {TARGET:g}×: {verdict(ratio_total >= TARGET)})")
    print(f"bare warm Graders are {results['naive'][1][0] / results['warm'][1][0]:.1f}× faster in total, "
          f"{marginal['naive'] / marginal['warm']:.1f}× per marginal submission")
    if a.compare:
        way = a.compare.name[:8]
        print(f"{a.compare} `grade batch` is {results['naive'][1][0] / results[way][1][0]:.1f}× faster in total, "
              f"{marginal['naive'] / marginal[way]:.1f}× per marginal submission")


if __name__ == "__main__":
    main()
