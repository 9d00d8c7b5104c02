"""The warm-worker pool: long-lived grading processes, each holding one warm `Grader`.

`grade batch`, `grade serve` and the notebook helper all grade through this pool.
A slot is a `python -m grader.pool.worker_main` process that imported TensorFlow
once (its zygote did) and grades job after job, every exercise of every job in a
fresh runner forked from that zygote. This module imports neither TensorFlow,
NumPy nor pytest: only the worker processes do.

A worker that dies, answers garbage or overruns the job's time limit is killed
with everything it started (its scratch directory too) and replaced by a new one
at the next job; the caller gets `WorkerLost` or `WorkerTimeout` and decides:
the batch writes an error report, the service puts the job back in its queue.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from grader import catalog
from grader.pool.procs import kill_and_reap, kill_tree, signal_word
from grader.report import Report

GRADER = "grader.api:Grader"


@dataclass(frozen=True)
class Job:
    """One submission to grade: `path` is a directory, a `.zip` or an `.ipynb` on this machine."""

    id: str
    path: Path
    exercises: Sequence[int] | None = None
    seed: int | None = None
    timeout_s: float | None = None  # default: job_timeout(exercises)


def job_timeout(exercises: Sequence[int] | None) -> float:
    """A bound on one submission: its exercises' own limits, plus a worker's start-up, with room to spare."""
    return 60.0 + 1.5 * sum(ex.limits.exercise_seconds for ex in catalog.select(exercises))


class WorkerTimeout(Exception):
    """The worker did not answer within the job's time limit (it has been killed)."""


class WorkerLost(Exception):
    """The worker ended, or answered something that is not a report, while grading a job (it has been killed)."""

    def __init__(self, message: str, log: str = ""):
        super().__init__(message)
        self.message, self.log = message, log


class JobRefused(WorkerLost):
    """The worker refused the job's request (a field it cannot grade); it is alive and takes the next job."""


class PoolClosed(Exception):
    """The pool is stopping: it takes no more jobs."""


class Worker:
    """One long-lived worker process: jobs in, reports out, one JSON line each.

    It runs in a session of its own with a scratch directory of its own (the
    zygote's, the runners' and the unpacked zips' directories are all inside), so
    killing it and removing that directory leaves nothing behind.
    """

    def __init__(self, scratch: Path, grade_fn: str = GRADER):
        scratch.mkdir(parents=True, exist_ok=True)
        self.log_path = scratch / f"worker-{uuid.uuid4().hex}.log"
        self.tmp = Path(tempfile.mkdtemp(prefix="grader-worker-"))
        self.tmp.chmod(0o711)  # runners may run as a uid of their own: they must reach their work dirs
        cmd = [sys.executable, "-m", "grader.pool.worker_main", "--grade-fn", grade_fn,
               "--parent", str(os.getpid()), "--scratch", str(self.tmp)]  # fmt: skip
        with open(self.log_path, "ab") as log:  # appended to by the worker; read here from an offset
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, start_new_session=True,
                cwd=Path(__file__).resolve().parent.parent.parent,
            )  # fmt: skip
        self._pending = b""
        self._log_from = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def grade(self, job: Job, timeout_s: float) -> Report:
        """The worker's report for `job`; WorkerTimeout or WorkerLost (then the worker must be killed)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._log_from = self._log_size()
        # The worker runs in the repository's root, not in our working directory.
        request = {"id": job.id, "submission": str(Path(job.path).absolute()),
                   "exercises": list(job.exercises) if job.exercises is not None else None, "seed": job.seed}  # fmt: skip
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except OSError:
            raise self._lost() from None
        line = self._read_line(time.monotonic() + timeout_s)
        try:
            reply = json.loads(line)
            if reply.get("id") != job.id:
                raise ValueError(f"a reply for {reply.get('id')!r}")
            if "error" in reply:
                raise JobRefused(f"the worker refused the job: {reply['error']['message']}", self.log_text())
            return Report.model_validate(reply["report"])
        except (ValueError, KeyError, TypeError, AttributeError, ValidationError) as e:
            raise WorkerLost(f"the worker sent something that is not a report ({str(e)[:100]})", self.log_text()) from None

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
                    raise self._lost()
                self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def _lost(self) -> WorkerLost:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        return WorkerLost(signal_word(code), self.log_text())

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_text(self) -> str:
        """What the worker printed since it was given the current job."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_from)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the worker and everything it started; remove its scratch directory and log."""
        kill_and_reap(self.proc)
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


class Pool:
    """N job slots: at most one worker each, reused from job to job, replaced when one fails.

    `grade` is thread-safe and blocks while it grades; call it from at most
    `slots` threads at once (each call takes an idle worker or starts one).
    """

    def __init__(self, slots: int, scratch: Path | None = None, grade_fn: str = GRADER) -> None:
        self.slots = max(1, slots)
        self.scratch = scratch or Path(tempfile.mkdtemp(prefix="grader-pool-"))
        self.grade_fn = grade_fn
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._workers: set[Worker] = set()
        self._busy: dict[str, Worker] = {}
        self.stopping = False
        self.started = 0  # workers started, replacements included

    def warm_up(self, n: int | None = None) -> None:
        """Start idle workers now (up to `n`, default every slot), so the first jobs find TensorFlow imported."""
        with self._lock:
            while not self.stopping and len(self._workers) < min(self.slots, n or self.slots):
                worker = Worker(self.scratch, self.grade_fn)
                self._workers.add(worker)
                self._idle.append(worker)
                self.started += 1

    def _take(self) -> Worker:
        with self._lock:
            if self.stopping:
                raise PoolClosed
            if self._idle:
                return self._idle.pop()
            worker = Worker(self.scratch, self.grade_fn)
            self._workers.add(worker)
            self.started += 1
            return worker

    def _drop(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)

    def grade(self, job: Job) -> Report:
        """Grade one job in a worker. WorkerTimeout / WorkerLost when the worker failed (it is replaced)."""
        worker = self._take()
        with self._lock:
            self._busy[job.id] = worker
        try:
            report = worker.grade(job, job.timeout_s or job_timeout(job.exercises))
        except JobRefused:
            with self._lock:
                self._idle.append(worker)
            raise
        except BaseException:
            self._drop(worker)
            raise
        finally:
            with self._lock:
                self._busy.pop(job.id, None)
        with self._lock:
            self._idle.append(worker)
        return report

    def worker_pids(self) -> dict[str, int]:
        """The pid of the worker grading each job now (for tests and operators)."""
        with self._lock:
            return {job_id: w.pid for job_id, w in self._busy.items()}

    def stop_all(self) -> None:
        """Kill every worker now (an interrupted batch): jobs being graded see their worker end."""
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
            stopping, self.stopping = self.stopping, True
        for worker in workers:
            worker.close(timeout_s=0 if stopping else 10.0)

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
