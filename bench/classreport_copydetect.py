"""copydetect against `grade report --similarity` on the same generated class (bench/classgen.py).

copydetect is not a dependency: install it apart (`pip install --target /tmp/cd --no-deps
copydetect`, then PYTHONPATH=/tmp/cd). Prints recall per kind of copy, false pairs, CPU.

    python bench/classreport_copydetect.py [--students 100] [--threshold 0.33]
"""

from __future__ import annotations

import argparse
import collections
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import classgen  # noqa: E402


def truth_of(planted):
    truth = {frozenset((a, b)) for a, b, _ in planted}
    by_source = collections.defaultdict(list)
    for a, b, _ in planted:
        by_source[a].append(b)
    for copies in by_source.values():
        truth |= {frozenset((x, y)) for x in copies for y in copies if x != y}
    return truth


def report(name: str, flagged: set, planted, cpu: float) -> None:
    truth = truth_of(planted)
    for kind in ("renamed", "added"):
        pairs = [frozenset((a, b)) for a, b, k in planted if k == kind]
        print(f"{name}: recall {kind} {sum(p in flagged for p in pairs) / len(pairs):.2f}")
    print(f"{name}: false pairs {len(flagged - truth)}, flagged {len(flagged)}, CPU {cpu:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--threshold", type=float, default=0.33)
    args = parser.parse_args()
    try:
        import copydetect
    except ImportError:
        raise SystemExit("copydetect is not installed: see this script's docstring") from None
    from grader.classreport import similarity

    copies = args.students // 10
    sources, planted = classgen.generate(args.students, copies, copies)
    with tempfile.TemporaryDirectory() as tmp:
        subs, stub = Path(tmp) / "subs", Path(tmp) / "stub"
        classgen.write(subs, sources)
        for slug, name in classgen.FILES.items():
            (stub / slug).mkdir(parents=True)
            (stub / slug / name).write_text((HERE.parent / "exercises" / slug / name).read_text())
        start = time.process_time()
        detector = copydetect.CopyDetector(test_dirs=[str(subs)], extensions=["py"], boilerplate_dirs=[str(stub)],
                                           same_name_only=True, display_t=args.threshold, silent=True, autoopen=False)
        detector.run()
        cpu = time.process_time() - start
        flagged = set()
        for row in detector.get_copied_code_list():
            a, b = Path(row[2]).relative_to(subs).parts[0], Path(row[3]).relative_to(subs).parts[0]
            if a != b:
                flagged.add(frozenset((a, b)))
    report(f"copydetect (threshold {args.threshold})", flagged, planted, cpu)
    start = time.process_time()
    result = similarity.analyse(sources, sorted(sources))
    ours = {frozenset((p["a"], p["b"])) for p in result["similarity"]}
    report("grade report --similarity", ours, planted, time.process_time() - start)
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
