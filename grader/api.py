"""The grading API: a submission in, a `Report` out. The CLI and batch call this.

`grade()` grades one submission. `Grader` grades many: it keeps a warm zygote (a
process that has imported TensorFlow once and forks a runner per exercise) and the
judge's own imports across submissions:

    with Grader() as grader:
        for path in submissions:
            report = grader.grade(path, submission_id=path.name)

Importing this module is cheap (standard library only), so a caller can start a
`Grader` first and let TensorFlow load in the zygote while the rest is imported.
"""

from __future__ import annotations

import gc
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from grader import __version__
from grader.runner.launch import Zygote

if TYPE_CHECKING:
    from grader import catalog
    from grader.judge.plugin import Seeds
    from grader.report import Environment, Report


class GradingError(Exception):
    """Bad input to the grader (usage error): the message says what to fix."""


def resolve_seeds(seed: int | None = None) -> Seeds:
    from grader import catalog
    from grader.judge.plugin import Seeds

    course = catalog.course()
    if seed is not None and seed < 0:  # NumPy's SeedSequence takes non-negative integers only
        raise GradingError(f"the seed must be a non-negative integer, got {seed}")
    try:
        secret = catalog.secret_seed()
    except catalog.CatalogError as e:
        raise GradingError(str(e)) from None
    return Seeds(seed=course.seed if seed is None else seed, secret=secret)


def select(exercises: Sequence[int | str] | None) -> list[catalog.Exercise]:
    from grader import catalog

    try:
        return catalog.select(exercises)
    except catalog.CatalogError as e:
        raise GradingError(str(e)) from None


def isolation_warning() -> str | None:
    """One line for whoever starts a batch when student code could signal, stop or trace the grader here."""
    from grader.runner.namespaces import processes_reach_grader

    why = processes_reach_grader()
    if why is None:
        return None
    return (f"warning: student code can reach the grader on this machine: {why}, and can signal, stop or trace "
            "the grader and every other process of that user; grade as root (in a container) for marks that matter")


def environment(notes: Sequence[str] = ()) -> Environment:
    from grader.report import Environment

    try:
        tf = metadata.version("tensorflow")
    except metadata.PackageNotFoundError:
        tf = None
    return Environment(platform=f"{platform.system()} {platform.machine()}", python=platform.python_version(),
                       tensorflow=tf, notes=sorted(set(notes)))


def _import_tensorflow() -> None:
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from grader.judge.quiet import tensorflow_quiet

    with tensorflow_quiet():  # its C++ start-up logs, and the CUDA probe's, are not for the student
        try:
            import tensorflow
        except ImportError:
            return
        tensorflow.config.list_physical_devices()
    # TensorFlow's modules stay for the life of the process: keep them out of every later
    # garbage collection (each full collection would otherwise walk them, ~0.3 s).
    gc.freeze()


def _can_fork() -> bool:
    return sys.platform == "linux" and os.environ.get("GRADER_NO_ZYGOTE", "") in ("", "0")


class Grader:
    """Grades submissions with one warm zygote for all their runners.

    The zygote starts with the `Grader` (TensorFlow loads there meanwhile) and ends with
    `close()`. Without fork (not Linux, or `GRADER_NO_ZYGOTE=1`) each runner is spawned.
    """

    def __init__(self, *, zygote: bool = True) -> None:
        self.zygote = Zygote().start() if zygote and _can_fork() else None

    def grade(self, submission: Path, exercises: Sequence[int | str] | None = None, seed: int | None = None,
              submission_id: str | None = None, limits: dict | None = None) -> Report:
        """Grade the student files found in `submission`: a directory, or a .zip of one.

        `limits` overrides every exercise's `[limits]` (keys of `catalog.Limits`).
        """
        from grader.submission import SubmissionError, prepare

        start = time.perf_counter()
        chosen = select(exercises)
        seeds = resolve_seeds(seed)
        with tempfile.TemporaryDirectory(prefix="grader-submission-") as scratch:
            try:
                directory = prepare(Path(submission), Path(scratch))
            except SubmissionError as e:
                raise GradingError(str(e)) from None
            return self._grade_directory(directory, chosen, seeds, submission_id or str(submission), start, limits)

    def _grade_directory(self, directory: Path, chosen: list[catalog.Exercise], seeds: Seeds, submission_id: str,
                         start: float, limits: dict | None) -> Report:
        from grader.judge.exercise import Judged, judge_exercises, missing_result, needs_tensorflow, open_session
        from grader.notebook.submission import take, error_result
        from grader.report import ExerciseResult, Report, round_score
        from grader.submission import locate, looked_for

        # Start every runner first: each gets ready while earlier exercises are judged.
        sessions = {}
        from_notebooks = take(directory)  # notebooks left out cells, or could not be read
        # Stop each judged exercise's runner while the next one is judged.
        closer = ThreadPoolExecutor(1, thread_name_prefix="grader-close")
        judged: dict[int, Future] = {}

        def stop(ex: catalog.Exercise, done: Judged) -> None:
            judged[ex.id] = closer.submit(done.finish)
            del sessions[ex.id]

        try:
            for ex in chosen:
                found = None if ex.slug in from_notebooks.unreadable else locate(directory, ex)
                if found is not None:
                    sessions[ex.id] = open_session(ex, found, seeds, submission_root=directory, limits=limits,
                                                   launcher=self.zygote)
            if any(needs_tensorflow(ex) for ex in chosen if ex.id in sessions):
                _import_tensorflow()  # the references need it; this overlaps the runners' start
            judge_exercises([(ex, sessions[ex.id]) for ex in chosen if ex.id in sessions], seeds, stop)
            results: list[ExerciseResult] = []
            internal: list[str] = []
            notes: list[str] = list(from_notebooks.notes)
            for ex in chosen:
                if ex.id in judged:
                    result, errors, ex_notes = judged[ex.id].result()
                    result = from_notebooks.relabel(result)  # a notebook's lines, named by cell
                    internal += errors
                    notes += ex_notes
                else:
                    unreadable = from_notebooks.unreadable.get(ex.slug)
                    result = (error_result(ex, unreadable) if unreadable else
                              missing_result(ex, from_notebooks.looked_for.get(ex.slug) or looked_for(ex, directory)))
                results.append(result)
        finally:
            for s in sessions.values():
                s.close()
            closer.shutdown()

        return Report(
            submission=submission_id,
            score=round_score(sum(r.score for r in results)),
            max_score=round_score(sum(r.max_score for r in results)),
            seed=seeds.seed,
            secret_seed=seeds.secret is not None,
            grader_version=__version__,
            duration_s=round(time.perf_counter() - start, 3),
            exercises=results,
            environment=environment(notes),
            grader_errors=len(internal),
        )

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()

    def __enter__(self) -> "Grader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def grade(submission: Path, exercises: Sequence[int | str] | None = None, seed: int | None = None,
          submission_id: str | None = None, limits: dict | None = None) -> Report:
    """Grade the student files found in `submission` (a directory, or a .zip of one), with one zygote.

    `limits` overrides every exercise's `[limits]` (keys of `catalog.Limits`).
    """
    with Grader() as grader:
        return grader.grade(submission, exercises, seed=seed, submission_id=submission_id, limits=limits)
