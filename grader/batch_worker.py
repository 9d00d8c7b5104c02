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


def _descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (Linux /proc; elsewhere none are found)."""
    children: dict[int, list[int]] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat_file.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(stat_file.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL `pid`'s process group and every descendant's group.

    The grader's runner starts student code in a session of its own, so
    killing the job's group alone would leave a hanging student process behind.
    """
    targets = _descendants(pid)
    for target in [*reversed(targets), pid]:
        for kill in (os.killpg, os.kill):
            try:
                kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _die_with_parent(parent: int) -> None:
    """If `grade batch` is killed (kill -9), take this job and the processes it started down too."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        kill_tree(os.getpid())

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
