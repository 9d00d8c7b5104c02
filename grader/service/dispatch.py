"""Dispatch: queued submissions to grading slots, through leases in the store.

A `Dispatcher` turns queued rows into reports. The service only needs `start`,
`wake` (something was queued), `stop` and `slots`; `LocalDispatcher` grades on this
machine with the shared warm-worker pool, and a broker-backed dispatcher (Celery
workers elsewhere) can take its place, the service staying the one writer of the
database.

`LocalDispatcher` runs one thread per slot: claim a lease, hand the job to the
pool (which blocks while a worker grades it), then record the report with the
lease's token. A maintenance thread renews the leases of running jobs and takes
back expired ones. A worker that dies or hangs (`WorkerLost` / `WorkerTimeout`)
sends its job back to the queue; the third failure makes the submission
`failed`. On stop, no new job is claimed, running ones get `drain_s` to finish,
then their workers are killed and the jobs handed back, uncounted.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

from grader.pool import Job, Pool, PoolClosed, WorkerLost, WorkerTimeout, job_timeout
from grader.service import submissions
from grader.service.config import Config
from grader.service.logs import event
from grader.service.store import Claim, Store


class Dispatcher(Protocol):
    slots: int

    def start(self) -> None: ...

    def wake(self) -> None: ...

    def quiesce(self) -> None: ...

    def stop(self, grace_s: float) -> None: ...


Changed = Callable[[str, str], None]  # (submission id, its new status)


class LocalDispatcher:
    def __init__(self, store: Store, config: Config, on_change: Changed, metrics=None, pool: Pool | None = None):
        self.store, self.config, self.on_change, self.metrics = store, config, on_change, metrics
        self.slots = max(1, config.workers)
        self.pool = pool or Pool(slots=self.slots, scratch=config.scratch_dir.resolve())
        self.holder = f"local:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._cv = threading.Condition()
        self._version = 0
        self._stopping = False
        self._halt = threading.Event()
        self._active: dict[str, Claim] = {}  # token -> claim
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ life

    def start(self) -> None:
        for sid, status in self.store.recover(self.holder, self.config.max_attempts, expired_only=False):
            event("job_recovered", id=sid, status=status)
            self.on_change(sid, status)
        self.pool.warm_up()
        for n in range(self.slots):
            self._threads.append(threading.Thread(target=self._slot, name=f"slot-{n}", daemon=True))
        self._threads.append(threading.Thread(target=self._maintain, name="leases", daemon=True))
        for t in self._threads:
            t.start()

    def wake(self) -> None:
        with self._cv:
            self._version += 1
            self._cv.notify_all()

    def running(self) -> int:
        with self._lock:
            return len(self._active)

    def quiesce(self) -> None:
        """Claim nothing more (safe in a signal handler: it takes no lock)."""
        self._stopping = True

    def stop(self, grace_s: float) -> None:
        """Claim nothing more; let running jobs finish for `grace_s`, then hand back the rest."""
        self._stopping = True
        self._halt.set()
        self.wake()
        deadline = time.monotonic() + grace_s
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.running():
            event("handing_back", jobs=self.running())
        self.pool.stop_all()
        for t in self._threads:
            t.join(timeout=15)
        self.pool.close()

    # ------------------------------------------------------------ slots

    def _slot(self) -> None:
        while not self._stopping:
            with self._cv:
                seen = self._version
            try:
                claim = self.store.claim(self.holder, self.config.lease_s)
            except Exception as e:  # a busy or broken database: say so, try again
                event("claim_failed", error=repr(e))
                claim = None
            if claim is None:
                with self._cv:
                    if self._version == seen and not self._stopping:
                        self._cv.wait(1.0)
                continue
            self._run(claim)

    def _run(self, claim: Claim) -> None:
        with self._lock:
            self._active[claim.token] = claim
        self.on_change(claim.id, "running")
        event("job_started", id=claim.id, attempt=claim.attempts)
        start = time.monotonic()
        timeout = self.config.job_timeout_s or job_timeout(claim.exercises)
        folder = self.config.scratch_dir.resolve() / "jobs" / claim.token
        try:
            path = submissions.materialize(*self.store.payload(claim.id), folder)
            report = self.pool.grade(Job(id=claim.id, path=path, exercises=claim.exercises, seed=claim.seed,
                                         timeout_s=timeout))
        except WorkerTimeout:
            self._failed(claim, "timeout", f"grading took longer than {timeout:.0f} s and was stopped")
        except (WorkerLost, PoolClosed) as e:
            if self._stopping:
                handed = self.store.release(claim.id, claim.token)
                event("job_handed_back", id=claim.id, done=handed)
                if handed:
                    self.on_change(claim.id, "queued")
            else:
                self._failed(claim, "worker_lost", f"the grading worker ended ({getattr(e, 'message', e)})")
        except Exception as e:
            self._failed(claim, "grader_error", f"the grader failed: {type(e).__name__}: {e}")
        else:
            seconds = time.monotonic() - start
            if self.store.finish(claim.id, claim.token, report.model_dump(mode="json")):
                if self.metrics is not None:
                    self.metrics.grading.observe(seconds)
                event("job_done", id=claim.id, score=report.score, seconds=round(seconds, 3))
                self.on_change(claim.id, "done")
            else:
                event("late_reply_ignored", id=claim.id)
        finally:
            with self._lock:
                self._active.pop(claim.token, None)
            shutil.rmtree(folder, ignore_errors=True)

    def _failed(self, claim: Claim, code: str, message: str) -> None:
        status = self.store.retry(claim.id, claim.token, code, message, self.config.max_attempts)
        event("job_retry" if status == "queued" else "job_failed", id=claim.id, code=code, attempt=claim.attempts,
              message=message)
        if self.metrics is not None:
            self.metrics.retried.labels(code).inc()
        if status is not None:
            self.on_change(claim.id, status)
            self.wake()

    # ------------------------------------------------------------ leases

    def _maintain(self) -> None:
        period = max(0.2, self.config.lease_s / 3)
        while not self._halt.wait(period):
            try:
                with self._lock:
                    tokens = list(self._active)
                self.store.renew(tokens, self.config.lease_s)
                for sid, status in self.store.recover(self.holder, self.config.max_attempts):
                    event("lease_expired", id=sid, status=status)
                    self.on_change(sid, status)
                    self.wake()
            except Exception as e:
                event("lease_maintenance_failed", error=repr(e))


def make(config: Config, store: Store, on_change: Changed, metrics=None) -> Dispatcher:
    """The dispatcher `grade serve` runs: the local pool, or `grade worker` processes through `--broker`."""
    if config.broker:
        from grader.service.broker import BrokerDispatcher

        return BrokerDispatcher(store, config, on_change, metrics)
    return LocalDispatcher(store, config, on_change, metrics)
