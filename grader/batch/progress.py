"""What an instructor sees while a batch runs and when it ends: progress and summary."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TextIO

from grader.render import formats
from grader.report import Report


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """A progress bar with count, rate and ETA on a terminal; one plain line per submission otherwise."""

    def __init__(self, total: int, stream: TextIO, tty: bool | None = None, clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.clock = clock
        self.start = clock()
        self.done = 0
        self.resumed = 0
        self.graded_now = 0

    def line(self) -> str:
        elapsed = self.clock() - self.start
        rate = self.graded_now / elapsed if elapsed > 0 and self.graded_now else 0.0
        left = self.total - self.done
        eta = _clock(left / rate) if rate else "--:--"
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        return f"[{bar}] {self.done}/{self.total} {rate * 60:.1f}/min ETA {eta}"

    def resumed_one(self) -> None:
        self.done += 1
        self.resumed += 1
        self._draw()

    def finished(self, report: Report) -> None:
        self.done += 1
        self.graded_now += 1
        if self.tty:
            self._draw()
        else:
            print(f"[{self.done}/{self.total}] {result_line(report)} ({report.duration_s:.1f} s)", file=self.stream, flush=True)

    def _draw(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + self.line())
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
        if self.resumed:
            print(f"{self.resumed} submission(s) already graded: reused their reports", file=self.stream)


def result_line(report: Report) -> str:
    """`erin: 10/50, 2 errors`: the score, and how many exercises could not be graded or crashed."""
    line = f"{report.submission}: {formats._num(report.score)}/{formats._num(report.max_score)}"
    errors = sum(1 for ex in report.exercises if ex.status == "error")
    return f"{line}, {errors} error{'s' if errors != 1 else ''}" if errors else line


def _errored(report: Report) -> bool:
    return any(ex.status == "error" for ex in report.exercises)


def summary(reports: Sequence[Report], top: int = 5) -> str:
    """The end-of-batch summary: counts, mean and median per exercise, most failed checks."""
    errored = sum(1 for r in reports if _errored(r))
    lines = [f"{len(reports)} submission(s): {len(reports) - errored} graded, {errored} with errors"]
    grader_failed = sum(1 for r in reports if r.grader_errors)
    if grader_failed:
        lines.append(f"  the grader itself failed on checks of {grader_failed} submission(s): see their reports")
    by_exercise: dict[tuple[int, str], list[float]] = {}
    max_by_exercise: dict[tuple[int, str], float] = {}
    failures: Counter[tuple[int, str]] = Counter()
    titles: dict[tuple[int, str], str] = {}  # (exercise id, check id) -> the check's title, as the instructor reads it
    for r in reports:
        for ex in r.exercises:
            by_exercise.setdefault((ex.id, ex.title), []).append(ex.score)
            max_by_exercise[(ex.id, ex.title)] = ex.max_score
            if ex.status not in ("passed", "failed"):
                continue  # missing, not attempted or broken: says nothing about which idea was missed
            for c in ex.checks:
                if c.status in ("failed", "error"):
                    failures[(ex.id, c.id)] += 1
                    titles.setdefault((ex.id, c.id), c.name)
    for key in sorted(by_exercise):
        scores = by_exercise[key]
        lines.append(
            f"  exercise {key[0]} · {key[1]}: mean {statistics.fmean(scores):.2f}, "
            f"median {statistics.median(scores):.2f} / {formats._num(max_by_exercise[key])}"
        )
    if reports:
        totals = [r.score for r in reports]
        lines.append(f"  total: mean {statistics.fmean(totals):.2f}, median {statistics.median(totals):.2f} / {formats._num(reports[0].max_score)}")
    if failures:
        lines.append("most failed checks (attempted exercises):")
        for (ex_id, check), n in sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
            lines.append(f"  {n:4d}  exercise {ex_id} · {titles[(ex_id, check)]}")
    if reports:
        lines.append("the whole picture (checks, mistakes, students): grade report <this batch's jsonl> --html class.html")
    return "\n".join(lines)
