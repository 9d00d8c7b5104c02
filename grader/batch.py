"""`grade batch`: grade every submission in a directory, in parallel, resumably.

Each entry of the directory (a folder, a `.zip` or an `.ipynb`; hidden entries ignored) is
one submission, its name (without `.zip`) its id. Each of the J job slots
is a long-lived worker process (`grader.batch_worker`) holding one warm
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

import fcntl
import hashlib
import json
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from grader import __version__, catalog, formats
from grader.batch_worker import kill_tree
from grader.report import CheckResult, ExerciseResult, Report, round_score

INTERRUPTED = 130
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class BatchError(Exception):
    """A batch that cannot start (unreadable directory, clashing ids); a usage error."""


# ---------------------------------------------------------------- submissions


@dataclass(frozen=True)
class Entry:
    id: str
    path: Path


def discover(directory: Path, exclude: Sequence[Path] = ()) -> list[Entry]:
    """The submissions in `directory`, sorted by id.

    Folders, `.zip` files and notebooks are submissions; hidden entries and the paths in
    `exclude` (the output and state of this batch) are not. Any other file is
    reported on stderr and left out.
    """
    if not directory.is_dir():
        raise BatchError(f"{directory} is not a directory")
    skip = {p.resolve() for p in exclude}
    entries: dict[str, Entry] = {}
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.name == "__MACOSX" or path.resolve() in skip:
            continue
        if path.is_dir():
            sid = path.name
        elif path.is_file() and path.suffix.lower() in (".zip", ".ipynb"):
            sid = path.stem
        else:
            print(f"grade batch: ignoring {path.name}: not a folder, a .zip or a notebook", file=sys.stderr)
            continue
        if sid in entries:
            raise BatchError(f"two entries give the submission id '{sid}': {entries[sid].path.name} and {path.name}")
        entries[sid] = Entry(sid, path)
    return list(entries.values())


def content_hash(path: Path) -> str:
    """sha256 over a submission's files: names and bytes, hidden files and caches left out."""
    h = hashlib.sha256()
    if path.is_file():
        h.update(b"zip\0")
        with open(path, "rb") as f:
            while chunk := f.read(1 << 16):
                h.update(chunk)
        return h.hexdigest()
    h.update(b"dir\0")
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            if name.startswith("."):
                continue
            full = Path(root, name)
            rel = full.relative_to(path).as_posix().encode()
            h.update(len(rel).to_bytes(4, "big") + rel)
            if full.is_symlink():
                h.update(b"link\0" + os.readlink(full).encode())
                continue
            try:
                data = full.read_bytes()
            except OSError as e:
                data = f"unreadable: {e.strerror}".encode()
            h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def effective_seed(seed: int | None) -> int:
    return catalog.course().seed if seed is None else seed


def selected_exercises(exercises: Sequence[int] | None) -> list[catalog.Exercise]:
    if exercises is None:
        return list(catalog.exercises())
    return [catalog.exercise(n) for n in exercises]


def job_key(content: str, exercises: Sequence[int] | None, seed: int | None) -> str:
    """What a stored report depends on. The secret seed enters only as a hash."""
    secret = os.environ.get(catalog.course().secret_seed_env, "")
    parts = {
        "content": content,
        "grader_version": __version__,
        "seed": effective_seed(seed),
        "exercises": sorted(exercises) if exercises is not None else "all",
        "secret_seed": hashlib.sha256(secret.encode()).hexdigest()[:16] if secret else None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def error_report(
    submission_id: str, exercises: Sequence[int] | None, seed: int | None, message: str, duration_s: float = 0.0
) -> Report:
    """The report of a submission the grader could not grade: every exercise `error`, 0 points."""
    results = [
        ExerciseResult(
            id=ex.id,
            slug=ex.slug,
            title=ex.title,
            status="error",
            score=0.0,
            max_score=ex.max_score,
            message=message,
            checks=[
                CheckResult(name=p.title, id=p.id, status="error", score=0.0, max_score=p.points, message=message)
                for p in ex.parts
            ],
        )
        for ex in selected_exercises(exercises)
    ]
    return Report(
        submission=submission_id,
        score=0.0,
        max_score=round_score(sum(ex.max_score for ex in results)),
        seed=effective_seed(seed),
        grader_version=__version__,
        duration_s=round(duration_s, 3),
        exercises=results,
    )


# ---------------------------------------------------------------- the store


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves either the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _safe_name(submission_id: str) -> str:
    """A file name for an id, readable and unique (ids differing only in odd characters stay apart)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", submission_id)[:80]
    return f"{safe}-{hashlib.sha256(submission_id.encode()).hexdigest()[:12]}"


class Store:
    """Finished reports, one file per submission id: `{"key": ..., "report": {...}}`.

    One file per id means a submission is never counted twice, and a report
    graded under another key (changed files, another seed or version) is
    simply replaced.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.reports = directory / "reports"
        self.scratch = directory / "tmp"
        self.logs = directory / "logs"

    def open(self) -> "Store":
        """Take the state directory for this batch; BatchError if another batch is using it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.directory / "lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise BatchError(f"another grade batch is using {self.directory}; wait for it or give --state") from None
        self.reports.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.scratch.mkdir(parents=True, exist_ok=True)
        for leftover in self.scratch.iterdir():
            leftover.unlink(missing_ok=True)
        return self

    def close(self) -> None:
        self._lock.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _file(self, submission_id: str) -> Path:
        return self.reports / f"{_safe_name(submission_id)}.json"

    def get(self, submission_id: str, key: str) -> Report | None:
        try:
            record = json.loads(self._file(submission_id).read_text(encoding="utf-8"))
            if record.get("key") != key or record.get("id") != submission_id:
                return None
            return Report.model_validate(record["report"])
        except (OSError, ValueError, KeyError, ValidationError):
            return None

    def put(self, submission_id: str, key: str, report: Report) -> None:
        record = {"id": submission_id, "key": key, "report": report.model_dump(mode="json")}
        atomic_write(self._file(submission_id), json.dumps(record))


def default_state_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.grader-state"


# ---------------------------------------------------------------- the workers


@dataclass(frozen=True)
class JobSettings:
    exercises: Sequence[int] | None
    seed: int | None
    timeout_s: float
    grade_fn: str = "grader.api:Grader"  # a Grader-like class kept warm in each worker, or a grade function


def job_timeout(exercises: Sequence[int] | None) -> float:
    """A bound on one submission: its exercises' own limits, plus a worker's start-up, with room to spare."""
    return 60.0 + 1.5 * sum(ex.limits.exercise_seconds for ex in selected_exercises(exercises))


class WorkerTimeout(Exception):
    """The worker did not answer within the submission's time limit."""


class WorkerFailed(Exception):
    """The worker ended, or answered something that is not a report, while grading a submission."""

    def __init__(self, message: str, log: str):
        super().__init__(message)
        self.message, self.log = message, log


class Worker:
    """One long-lived `python -m grader.batch_worker` process: submission paths in, reports out.

    It runs in a session of its own with a scratch directory of its own (the
    zygote's, the runners' and the unpacked zips' directories are all inside), so
    killing it and removing that directory leaves nothing behind.
    """

    def __init__(self, settings: JobSettings, scratch: Path):
        self.log_path = scratch / f"worker-{uuid.uuid4().hex}.log"
        self.tmp = Path(tempfile.mkdtemp(prefix="grader-batch-worker-"))
        self.tmp.chmod(0o711)  # runners may run as a uid of their own: they must reach their work dirs
        cmd = [sys.executable, "-m", "grader.batch_worker", "--grade-fn", settings.grade_fn,
               "--parent", str(os.getpid()), "--scratch", str(self.tmp)]
        for n in settings.exercises or ():
            cmd += ["--exercise", str(n)]
        if settings.seed is not None:
            cmd += ["--seed", str(settings.seed)]
        with open(self.log_path, "ab") as log:  # appended to by the worker; read here from an offset
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, start_new_session=True,
                cwd=Path(__file__).resolve().parent.parent,
            )  # fmt: skip
        self._pending = b""
        self._log_from = 0

    def grade(self, entry: Entry, timeout_s: float) -> Report:
        """The worker's report for `entry`; WorkerTimeout or WorkerFailed (then the worker must be killed)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._log_from = self._log_size()
        request = json.dumps({"id": entry.id, "submission": str(entry.path)}) + "\n"
        try:
            self.proc.stdin.write(request.encode())
            self.proc.stdin.flush()
        except OSError:
            raise self._failed() from None
        line = self._read_line(time.monotonic() + timeout_s)
        try:
            reply = json.loads(line)
            if reply.get("id") != entry.id:
                raise ValueError(f"a reply for {reply.get('id')!r}")
            return Report.model_validate(reply["report"])
        except (ValueError, KeyError, TypeError, AttributeError, ValidationError) as e:
            raise WorkerFailed(f"the worker sent something that is not a report ({str(e)[:100]})", self.log_text()) from None

    def _read_line(self, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerTimeout
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise self._failed()
                self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def _failed(self) -> WorkerFailed:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        return WorkerFailed(_signal_word(code), self.log_text())

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_text(self) -> str:
        """What the worker printed since it was given the current submission."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_from)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the worker and everything it started; remove its scratch directory and log."""
        if self.proc.poll() is None:
            kill_tree(self.proc.pid)
        _kill_group(self.proc)
        self._cleanup()

    def close(self, timeout_s: float = 10.0) -> None:
        """Let the worker finish (its zygote cleans up after itself); kill it if it does not."""
        try:
            self.proc.stdin.close()  # type: ignore[union-attr]
            self.proc.wait(timeout=timeout_s)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def _cleanup(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.log_path.unlink(missing_ok=True)


class Jobs:
    """The job slots: at most one worker each, reused from submission to submission, replaced when one fails."""

    def __init__(self, settings: JobSettings, scratch: Path, logs: Path) -> None:
        self.settings = settings
        self.scratch = scratch
        self.logs = logs
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._workers: set[Worker] = set()
        self.stopping = False
        self.started = 0  # workers started, replacements included

    def _take(self) -> Worker:
        with self._lock:
            if self.stopping:
                raise KeyboardInterrupt
            if self._idle:
                return self._idle.pop()
            worker = Worker(self.settings, self.scratch)
            self._workers.add(worker)
            self.started += 1
            return worker

    def _drop(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)

    def run(self, entry: Entry) -> Report:
        """Grade one submission in a worker; always a report, an error report when the worker failed."""
        settings = self.settings
        worker = self._take()
        start = time.monotonic()
        try:
            report = worker.grade(entry, settings.timeout_s)
        except WorkerTimeout:
            self._drop(worker)
            if self.stopping:
                raise KeyboardInterrupt from None
            return error_report(
                entry.id, settings.exercises, settings.seed,
                f"Grading this submission took longer than {settings.timeout_s:.0f} s and was stopped. "
                "Look for an infinite loop or very slow code.",
                time.monotonic() - start,
            )  # fmt: skip
        except WorkerFailed as e:
            self._drop(worker)
            if self.stopping:
                raise KeyboardInterrupt from None
            atomic_write(self.logs / f"{_safe_name(entry.id)}.log", e.log)
            last = e.log.strip().splitlines()[-1] if e.log.strip() else ""
            message = f"The grader could not grade this submission ({e.message})"
            return error_report(
                entry.id, settings.exercises, settings.seed,
                f"{message}: {last[:300]}" if last else f"{message}.", time.monotonic() - start,
            )  # fmt: skip
        except BaseException:
            self._drop(worker)
            raise
        with self._lock:
            self._idle.append(worker)
        (self.logs / f"{_safe_name(entry.id)}.log").unlink(missing_ok=True)
        return report

    def stop_all(self) -> None:
        """Kill every worker (an interrupted batch): the ones grading see their worker end."""
        with self._lock:
            self.stopping = True
            workers = list(self._workers)
        for worker in workers:
            if worker.proc.poll() is None:
                kill_tree(worker.proc.pid)

    def close(self) -> None:
        """End the workers: idle ones finish cleanly, any other is killed."""
        with self._lock:
            workers, self._workers, self._idle = list(self._workers), set(), []
        for worker in workers:
            worker.close(timeout_s=0 if self.stopping else 10.0)


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        kill_tree(proc.pid)
    else:  # the worker has ended: its process group may still hold processes it started
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    proc.wait()


def _signal_word(returncode: int | None) -> str:
    if returncode is None:
        return "no exit status"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


# ---------------------------------------------------------------- progress


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
            status = "error" if _errored(report) else f"{formats._num(report.score)}/{formats._num(report.max_score)}"
            print(f"[{self.done}/{self.total}] {report.submission}: {status} ({report.duration_s:.1f} s)", file=self.stream, flush=True)

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


# ---------------------------------------------------------------- summary


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
    failures: Counter[tuple[str, str]] = Counter()
    for r in reports:
        for ex in r.exercises:
            by_exercise.setdefault((ex.id, ex.slug), []).append(ex.score)
            max_by_exercise[(ex.id, ex.slug)] = ex.max_score
            if ex.status not in ("passed", "failed"):
                continue  # missing, not attempted or broken: says nothing about which idea was missed
            for c in ex.checks:
                if c.status in ("failed", "error"):
                    failures[(ex.slug, c.id)] += 1
    for key in sorted(by_exercise):
        scores = by_exercise[key]
        lines.append(
            f"  exercise {key[0]} {key[1]}: mean {statistics.fmean(scores):.2f}, "
            f"median {statistics.median(scores):.2f} / {formats._num(max_by_exercise[key])}"
        )
    if reports:
        totals = [r.score for r in reports]
        lines.append(f"  total: mean {statistics.fmean(totals):.2f}, median {statistics.median(totals):.2f} / {formats._num(reports[0].max_score)}")
    if failures:
        lines.append("most failed checks (attempted exercises):")
        for (slug, check), n in sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
            lines.append(f"  {n:4d}  {slug}::{check}")
    return "\n".join(lines)


# ---------------------------------------------------------------- output


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


# ---------------------------------------------------------------- the batch


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
    runner = Jobs(settings, store.scratch, store.logs)
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="grade-job")
    interrupted = False
    try:
        pending: dict[Future, tuple[Entry, str]] = {pool.submit(runner.run, entry): (entry, key) for entry, key in todo}
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
    from grader.api import GradingError, resolve_seeds

    try:
        resolve_seeds(seed)  # a bad secret seed would fail every submission: say so once, up front
        chosen = [ex.id for ex in selected_exercises(exercises)] if exercises is not None else None
        entries = discover(directory, exclude=[out, state])
    except (BatchError, catalog.CatalogError, GradingError) as e:
        print(f"grade batch: {e}", file=stream)
        return 2
    try:
        store = Store(state).open()
    except BatchError as e:
        print(f"grade batch: {e}", file=stream)
        return 2
    except OSError as e:
        print(f"grade batch: cannot use the state directory {state}: {e.strerror}", file=stream)
        return 3
    with store:
        return _grade_into(store, entries, out, fmt, visibility, feedback, stream,
                           JobSettings(chosen, seed, timeout_s or job_timeout(chosen), grade_fn),
                           jobs or os.cpu_count() or 1)  # fmt: skip


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
        print(f"grade batch: cannot write {out}: {e.strerror}", file=stream)
        return 3
    print(summary(result.reports), file=stream)
    if any(store.logs.iterdir()):
        print(f"logs of the grading jobs that failed: {store.logs}", file=stream)
    print(f"wrote {out} ({fmt})", file=stream)
    return 0
