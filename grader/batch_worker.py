"""One batch job: grade one submission in a process of its own.

`grade batch` starts one of these per submission (`python -m
grader.batch_worker`), so a submission that crashes or hangs the grader takes
only its own process down. It unpacks a `.zip` safely, calls the grading API
and writes the report, as JSON, to the path it was given. It exits 0 whenever
it wrote a report; anything else is for the parent to turn into an error
report.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from grader import submission
from grader.report import Report


def _load(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _die_with_parent(parent: int) -> None:
    """If `grade batch` is killed (kill -9), take this job and its children down too.

    The job runs in a session of its own (the parent kills its process group
    on timeout), so it is not in the terminal's group either.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()


def write_report(report: Report, path: Path) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(report.model_dump_json(), encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m grader.batch_worker")
    p.add_argument("--submission", type=Path, required=True)
    p.add_argument("--id", required=True)
    p.add_argument("--report", type=Path, required=True)
    p.add_argument("--exercise", type=int, action="append")
    p.add_argument("--seed", type=int)
    p.add_argument("--grade-fn", default="grader.api:grade")
    p.add_argument("--parent", type=int)
    args = p.parse_args(argv)
    if args.parent:
        _die_with_parent(args.parent)

    grade = _load(args.grade_fn)
    with tempfile.TemporaryDirectory(prefix="grader-sub-") as scratch:
        try:
            root = submission.prepare(args.submission, Path(scratch))
        except submission.SubmissionError as e:
            from grader.batch import error_report

            report = error_report(args.id, args.exercise, args.seed, f"Your submission could not be opened: {e}")
        else:
            report = grade(root, exercises=args.exercise, seed=args.seed, submission_id=args.id)
    write_report(report, args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
