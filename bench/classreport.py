"""`grade report` on a large class, on one core: time, memory, page size, similarity recall.

  1. --students (default 1,000) five-exercise reports (random but realistic: every check of
     the catalog, statuses, named mistakes, messages with numbers) -> `grade report --html --json`
     without similarity. Target: <= 5 s.
  2. the generated class of bench/classgen.py (--students submissions in all, 10% of them planted
     copies: half renamed and reordered, half with statements added) -> `grade report --similarity`.
     Targets: <= 30 s, <= 500 MiB, page <= 5 MB, recall >= 0.95 (renamed) and >= 0.8 (added).
  3. copies of one exercise only in a generated class of 300 (in this process): how many are flagged.
Each command runs as `python -m grader report ...` pinned to one core (taskset), so the
figures include Python's and matplotlib's start-up.

    python bench/classreport.py [--students 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import classgen  # noqa: E402

MISTAKES = ["sum_instead_of_mean", "not_squared", "broadcast_n_by_n", "bias_forgotten", "wrong_sign",
            "probabilities_not_labels", "float_io", "unaligned_array"]


def fake_reports(ids: list[str], seed: int = 7) -> list[dict]:
    from grader import catalog

    rng = random.Random(seed)
    reports = []
    for sid in ids:
        ability = rng.random()
        exercises = []
        for ex in catalog.exercises():
            roll = rng.random()
            status = "missing" if roll < 0.04 else "not_attempted" if roll < 0.08 else "error" if roll < 0.1 else None
            checks = []
            for part in ex.parts:
                passed = status is None and rng.random() < 0.35 + 0.6 * ability
                cstatus = "passed" if passed else "skipped" if status in ("missing", "not_attempted") else \
                    "error" if status == "error" or rng.random() < 0.05 else "failed"
                mistake = rng.choice(MISTAKES) if cstatus == "failed" and rng.random() < 0.6 else None
                message = "" if passed else f"expected {rng.uniform(0, 100):.4f}, your code gave {rng.uniform(0, 100):.4f} for {sid}"
                checks.append({"name": part.title, "id": part.id, "status": cstatus, "score": part.points if passed else 0.0,
                               "max_score": part.points, "message": message, "hint": "", "mistake": mistake})
            score = sum(c["score"] for c in checks)
            exercises.append({"id": ex.id, "slug": ex.slug, "title": ex.title, "max_score": ex.max_score,
                              "status": status or ("passed" if score == ex.max_score else "failed"), "score": score,
                              "message": "", "output": "", "duration_s": 1.0, "student_s": 0.5, "checks": checks})
        reports.append({"schema_version": 1, "submission": sid, "score": sum(e["score"] for e in exercises),
                        "max_score": sum(e["max_score"] for e in exercises), "seed": 1234, "secret_seed": False,
                        "grader_version": "0.1.0", "duration_s": 5.0, "exercises": exercises, "environment": None,
                        "grader_errors": 0})
    return reports


def run(args: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MiB) of `grade report ARGS` on one core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    start = time.monotonic()
    done = subprocess.run([*pin, sys.executable, "-m", "grader", "report", *args], cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"grade report failed: {done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=1000)
    n = parser.parse_args().students
    with tempfile.TemporaryDirectory(prefix="bench-classreport-") as tmp:
        work = Path(tmp)
        ids = [f"student{i:04d}" for i in range(n)]
        results = work / "plain.jsonl"
        results.write_text("".join(json.dumps(r) + "\n" for r in fake_reports(ids)))
        wall, cpu, rss = run([str(results), "--html", str(work / "plain.html"), "--json", str(work / "plain.json")])
        print(f"without similarity: {n} five-exercise reports: wall {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {rss:.0f} MiB, "
              f"page {(work / 'plain.html').stat().st_size / 1e6:.2f} MB (target <= 5 s: ratio {wall / 5:.2f})")

        copies = n // 20
        sources, planted = classgen.generate(n - 2 * copies, copies, copies)
        classgen.write(work / "subs", sources)
        results = work / "sim.jsonl"
        results.write_text("".join(json.dumps(r) + "\n" for r in fake_reports(sorted(sources))))
        wall, cpu, rss = run([str(results), "--html", str(work / "sim.html"), "--json", str(work / "sim.json"),
                              "--similarity", "--submissions", str(work / "subs")])
        size = (work / "sim.html").stat().st_size / 1e6
        print(f"with similarity: {len(sources)} submissions: wall {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {rss:.0f} MiB, "
              f"page {size:.2f} MB (targets <= 30 s: ratio {wall / 30:.2f}; <= 500 MiB: ratio {rss / 500:.2f}; "
              f"<= 5 MB: ratio {size / 5:.2f})")
        data = json.loads((work / "sim.json").read_text())
        whole = {frozenset((p["a"], p["b"])) for p in data["similarity"] if p["exercise"] is None}
        truth = {frozenset((a, b)) for a, b, _ in planted}
        by_source: dict[str, list[str]] = {}
        for a, b, _ in planted:
            by_source.setdefault(a, []).append(b)
        for cs in by_source.values():
            truth |= {frozenset((x, y)) for x in cs for y in cs if x != y}
        for kind, target in (("renamed", 0.95), ("added", 0.8)):
            pairs = [frozenset((a, b)) for a, b, k in planted if k == kind]
            recall = sum(p in whole for p in pairs) / len(pairs)
            print(f"recall, {kind}: {recall:.3f} of {len(pairs)} planted pairs (target >= {target})")
        false = [p for p in data["similarity"] if frozenset((p["a"], p["b"])) not in truth]
        independent_pairs = len(sources) * (len(sources) - 1) // 2 - len(truth)
        print(f"false pairs: {len(false)} of {independent_pairs} independent pairs flagged "
              f"(rate {len(false) / independent_pairs:.2e}); flagged in all: {len(data['similarity'])}")

        single_exercise_copies()


def single_exercise_copies(n: int = 300, copies: int = 40) -> None:
    """Copies of one exercise only (verbatim, a comment added), the rest the copier's own: how many are flagged."""
    from grader.classreport import similarity

    sources, _ = classgen.generate(n, 0, 0)
    rng = random.Random(3)
    ids = sorted(sources)
    planted = []
    for i in range(copies):
        original, copier = rng.sample(ids, 2)
        slug = rng.choice(["ex2_train_step", "ex3_two_layer", "ex4_perceptron", "ex5_quantize"])
        sources[f"partial{i:02d}"] = {**sources[copier], slug: sources[original][slug] + "\n# mine\n"}
        planted.append(frozenset((original, f"partial{i:02d}")))
    flagged = {frozenset((p["a"], p["b"])) for p in similarity.analyse(sources, sorted(sources))["similarity"]}
    print(f"single-exercise copies: {sum(p in flagged for p in planted)} of {copies} flagged in a class of {n}")


if __name__ == "__main__":
    main()
