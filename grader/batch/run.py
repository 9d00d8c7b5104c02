"""`grade batch`: grade every submission in a directory, in parallel, resumably.

Each entry of the directory (a folder or a `.zip`; hidden entries ignored) is
one submission, its name (without `.zip`) its id. Each of the J job slots
is a long-lived worker process of the pool (`grader.pool`) holding one warm
`grader.api.Grader`: TensorFlow is imported once per worker, not once per
submission, and every exercise of every submission still runs in a fresh
runner forked from the worker's zygote. A submission that crashes or hangs
its worker, or a bad archive, becomes that submission's error report; the
worker is killed with everything it started and replaced, and the batch goes on.

Nothing is lost: a finished report is written to the state directory
atomically (temporary file, fsync, rename, fsync of the directory) before it
is counted, under a key made of the submission's content hash, the grader
version, the seed and the exercises. Running the same command again skips
what is done and re-grades what changed, so a batch interrupted by Ctrl-C or
kill -9 and run again ends with exactly the reports of an uninterrupted run.
The output file is rendered from the state directory once all are done.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from grader import __version__, catalog
from grader.batch.entries import BatchError, Entry, discover
from grader.batch.progress import Progress, summary
from grader.pool import Job, Pool, PoolClosed, WorkerLost, WorkerTimeout, job_timeout
from grader.pool.store import Store, StoreBusy, atomic_write, content_hash, effective_seed, job_key, safe_name
from grader.render import formats
from grader.report import Report, error_report

INTERRUPTED = 130


def default_state_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.grader-state"


@dataclass(frozen=True)
class JobSettings:
    exercises: Sequence[int] | None
    seed: int | None
    timeout_s: float
    grade_fn: str = "grader.api:Grader"  # a Grader-like class kept warm in each worker, or a grade function


def grade_entry(pool: Pool, entry: Entry, settings: JobSettings, logs: Path) -> Report:
    """Grade one submission in the pool; always a report, an error report when its worker failed."""
    start = time.monotonic()

    def failed(message: str) -> Report:
        return error_report(entry.id, catalog.select(settings.exercises), effective_seed(settings.seed),
                            __version__, message, time.monotonic() - start)  # fmt: skip

    try:
        report = pool.grade(Job(entry.id, entry.path, settings.exercises, settings.seed, settings.timeout_s))
    except PoolClosed:
        raise KeyboardInterrupt from None
    except WorkerTimeout:
        if pool.stopping:
            raise KeyboardInterrupt from None
        return failed(f"Grading this submission took longer than {settings.timeout_s:.0f} s and was stopped. "
                      "Look for an infinite loop or very slow code.")  # fmt: skip
    except WorkerLost as e:
        if pool.stopping:
            raise KeyboardInterrupt from None
        atomic_write(logs / f"{safe_name(entry.id)}.log", e.log)
        last = e.log.strip().splitlines()[-1] if e.log.strip() else ""
        message = f"The grader could not grade this submission ({e.message})"
        return failed(f"{message}: {last[:300]}" if last else f"{message}.")
    (logs / f"{safe_name(entry.id)}.log").unlink(missing_ok=True)
    return report


def write_output(reports: Sequence[Report], out: Path, fmt: str, visibility: formats.Visibility = "visible",
                 feedback: formats.Feedback = "full") -> None:  # fmt: skip
    """Render `reports` to `out`; for `gradescope`, `out` is a directory of `<id>.json`."""
    if fmt == "jsonl":
        atomic_write(out, formats.jsonl(reports))
    elif fmt == "csv":
        atomic_write(out, formats.gradebook_csv(reports))
    elif fmt == "junit":
        atomic_write(out, formats.junit(reports))
    elif fmt == "gradescope":
        out.mkdir(parents=True, exist_ok=True)
        for r in reports:
            atomic_write(out / f"{r.submission}.json", formats.gradescope_json(r, visibility, feedback))
    else:
        raise BatchError(f"unknown format '{fmt}'; the formats are: {', '.join(formats.FORMATS)}")


@dataclass
class BatchResult:
    reports: list[Report]
    interrupted: bool = False


def grade_all(
    entries: Sequence[Entry], store: Store, settings: JobSettings, jobs: int, progress: Progress
) -> BatchResult:
    """Grade what the store does not hold yet; return every entry's report, in entry order."""
    done: dict[str, Report] = {}
    todo: list[tuple[Entry, str]] = []
    for entry in entries:
        key = job_key(content_hash(entry.path), settings.exercises, settings.seed)
        cached = store.get(entry.id, key)
        if cached is not None:
            done[entry.id] = cached
            progress.resumed_one()
        else:
            todo.append((entry, key))
    runner = Pool(jobs, store.scratch, settings.grade_fn)
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="grade-job")
    interrupted = False
    try:
        pending: dict[Future, tuple[Entry, str]] = {pool.submit(grade_entry, runner, entry, settings, store.logs): (entry, key) for entry, key in todo}
        while pending:
            finished, _ = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for fut in finished:
                entry, key = pending.pop(fut)
                report = fut.result()
                store.put(entry.id, key, report)
                done[entry.id] = report
                progress.finished(report)
    except KeyboardInterrupt:
        interrupted = True
        runner.stop_all()
    except BaseException:
        runner.stop_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        runner.close()
    return BatchResult([done[e.id] for e in entries if e.id in done], interrupted=interrupted)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _sigterm_interrupts():
    """Let `kill` stop a batch like Ctrl-C does: finished reports are kept, jobs are stopped."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_interrupt)


def run_batch(
    directory: Path,
    out: Path,
    fmt: str = "jsonl",
    exercises: Sequence[int] | None = None,
    jobs: int | None = None,
    seed: int | None = None,
    state: Path | None = None,
    visibility: formats.Visibility = "visible",
    feedback: formats.Feedback = "full",
    grade_fn: str = "grader.api:Grader",
    stream: TextIO | None = None,
    timeout_s: float | None = None,
) -> int:
    """Grade every submission in `directory` into `out`; the exit code of `grade batch`.

    0 when the batch completed (whatever the scores), 2 for a usage error,
    3 when the output could not be written, 130 when interrupted (run the
    same command again to resume).
    """
    stream = stream or sys.stderr
    if fmt not in formats.FORMATS:
        print(f"grade batch: unknown format '{fmt}'; the formats are: {', '.join(formats.FORMATS)}", file=stream)
        return 2
    state = state or default_state_dir(out)
    from grader.api import GradingError, isolation_warning, resolve_seeds

    try:
        resolve_seeds(seed)  # a bad secret seed would fail every submission: say so once, up front
        chosen = [ex.id for ex in catalog.select(exercises)] if exercises is not None else None
        entries = discover(directory, exclude=[out, state])
    except (BatchError, catalog.CatalogError, GradingError) as e:
        print(f"grade batch: {e}", file=stream)
        return 2
    if not entries:
        print(f"grade batch: warning: no submissions found in {directory}: folders, .zip or .ipynb entries", file=stream)
    problem = _output_problem(out, fmt)
    if problem is not None:
        print(f"grade batch: {problem[1]}", file=stream)
        return problem[0]
    try:
        store = Store(state).open()
    except StoreBusy as e:
        print(f"grade batch: {e}", file=stream)
        return 2
    except OSError as e:
        print(f"grade batch: cannot use the state directory {state}: {e.strerror}", file=stream)
        return 3
    warning = isolation_warning()
    if warning:
        print(f"grade batch: {warning}", file=stream)
    with store:
        with contextlib.suppress(OSError):  # where the submissions are, for `grade report --similarity`
            atomic_write(state / "batch.json", json.dumps({"directory": str(directory.resolve())}))
        return _grade_into(store, entries, out, fmt, visibility, feedback, stream,
                           JobSettings(chosen, seed, timeout_s or job_timeout(chosen), grade_fn),
                           jobs or os.cpu_count() or 1)  # fmt: skip


def _output_problem(out: Path, fmt: str) -> tuple[int, str] | None:
    """Why `out` could not be written (exit code, message), found before an hour of grading rather than after."""
    if fmt == "gradescope":
        if out.exists() and not out.is_dir():
            return 2, f"--out {out} is a file; with --format gradescope it is the directory the <id>.json files go to"
        directory = out
    else:
        if out.is_dir():
            return 2, f"--out {out} is a directory; give the file to write, e.g. {out / ('grades.' + fmt)}"
        directory = out.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
    except OSError as e:
        return 3, f"cannot write in {directory}: {e.strerror}"
    return None


def _grade_into(store: Store, entries: list[Entry], out: Path, fmt: str, visibility: formats.Visibility,
                feedback: formats.Feedback, stream: TextIO, settings: JobSettings, jobs: int) -> int:  # fmt: skip
    print(f"grading {len(entries)} submission(s) with {jobs} job(s)", file=stream)
    progress = Progress(len(entries), stream)
    previous = _sigterm_interrupts()
    try:
        result = grade_all(entries, store, settings, jobs, progress)
    finally:
        progress.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if result.interrupted:
        print(
            f"interrupted: {len(result.reports)} of {len(entries)} reports saved in {store.directory}; "
            "run the same command again to finish",
            file=stream,
        )
        return INTERRUPTED
    try:
        write_output(result.reports, out, fmt, visibility, feedback)
    except OSError as e:
        print(f"grade batch: cannot write {out}: {e.strerror}; the reports are kept: run again with another --out "
              f"and --state {store.directory} to write them without grading again", file=stream)
        return 3
    print(summary(result.reports), file=stream)
    if any(store.logs.iterdir()):
        print(f"logs of the grading jobs that failed: {store.logs}", file=stream)
    print(f"wrote {out} ({fmt})", file=stream)
    return 0
