"""Stand-in for `grader.pool` until the pool extraction lands on main (then this file goes).

The same API, over `grader.batch`'s workers (whose exercises and seed are fixed per worker).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader import batch
from grader.batch_worker import kill_tree


@dataclass(frozen=True)
class Job:
    id: str
    path: Path
    exercises: Sequence[int] | None = None
    seed: int | None = None
    timeout_s: float | None = None


def job_timeout(exercises):
    return batch.job_timeout(exercises)


class WorkerTimeout(Exception):
    pass


class WorkerLost(Exception):
    def __init__(self, message: str, log: str = ""):
        super().__init__(message)
        self.message, self.log = message, log


class PoolClosed(Exception):
    pass


class Pool:
    def __init__(self, slots: int, scratch: Path | None = None, grade_fn: str = "grader.api:Grader"):
        self.slots = max(1, slots)
        self.scratch = scratch or Path(tempfile.mkdtemp(prefix="grader-pool-"))
        self.grade_fn = grade_fn
        self._lock = threading.Lock()
        self._idle: list[tuple[tuple, batch.Worker]] = []
        self._workers: set[batch.Worker] = set()
        self.stopping = False

    def warm_up(self, n: int | None = None) -> None:
        with self._lock:
            while len(self._workers) < min(self.slots, n or self.slots):
                w = batch.Worker(batch.JobSettings(None, None, 0, self.grade_fn), self.scratch)
                self._workers.add(w)
                self._idle.append(((None, None), w))

    def _take(self, key: tuple) -> batch.Worker:
        with self._lock:
            if self.stopping:
                raise PoolClosed
            for i, (k, w) in enumerate(self._idle):
                if k == key:
                    return self._idle.pop(i)[1]
            if self._idle and len(self._workers) >= self.slots:
                _, old = self._idle.pop(0)
                self._workers.discard(old)
                old.kill()
            w = batch.Worker(batch.JobSettings(list(key[0]) if key[0] else None, key[1], 0, self.grade_fn), self.scratch)
            self._workers.add(w)
            return w

    def grade(self, job: Job):
        key = (tuple(job.exercises) if job.exercises else None, job.seed)
        worker = self._take(key)
        try:
            report = worker.grade(batch.Entry(job.id, Path(job.path)), job.timeout_s or job_timeout(job.exercises))
        except batch.WorkerTimeout:
            self._drop(worker)
            raise WorkerTimeout from None
        except batch.WorkerFailed as e:
            self._drop(worker)
            raise WorkerLost(e.message, e.log) from None
        except BaseException:
            self._drop(worker)
            raise
        with self._lock:
            self._idle.append((key, worker))
        return report

    def _drop(self, worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)

    def stop_all(self) -> None:
        with self._lock:
            self.stopping = True
            workers = list(self._workers)
        for w in workers:
            if w.proc.poll() is None:
                kill_tree(w.proc.pid)

    def close(self) -> None:
        with self._lock:
            workers, self._workers, self._idle = list(self._workers), set(), []
            stopping, self.stopping = self.stopping, True
        for w in workers:
            w.close(timeout_s=0 if stopping else 10.0)
