"""The broker dispatcher: `grade serve --broker redis://...` grades on `grade worker` processes elsewhere.

It has the shape of `LocalDispatcher` (`start`, `wake`, `stop`, `slots`) and the
same leases: the service stays the one writer of its database, and the database
stays the queue. Three threads in the web process:

- the sender claims queued submissions (a lease whose token is the Celery task
  id) and sends each as a message holding its files, by task name
  (`send_task`: the web process never imports the task, nor TensorFlow). It keeps
  about two jobs per live worker slot at the broker, so the backlog waits in the
  database, where it can be cancelled and counted, not in Redis. When the broker
  is down a claimed job is handed back uncounted and the sender tries again; the
  API goes on answering 201.
- the collector reads reports from the Redis result backend (woken by the
  backend's own publish of each result) and records them with the lease's token:
  a result for a lease no longer held (a duplicate, a late one) changes nothing,
  so each submission gets exactly one report.
- the maintenance thread renews the leases of jobs at the broker, counts the
  live worker slots (`celery inspect stats`), and takes back a job no worker
  reported on within `lost_after_s` (a broker that lost its data).

Redelivery of a job whose worker died is Celery's and Redis's (late acks, a
40 s visibility timeout that each live worker renews for the jobs it holds, see
`grader.worker.leases`): a killed worker's job runs elsewhere within a minute,
a long one stays with its live worker. The worker counts deliveries, the service
records them as attempts; every delivery carries the lease's token, so whichever
report comes first is recorded and any other is ignored. A restarted service
adopts the leases of jobs still at the broker and collects their reports:
nothing is graded twice because the web process died.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass

from grader.service.config import Config
from grader.service.logs import event
from grader.service.store import Claim, Store

HOLDER = "broker"
INSPECT_EVERY_S = 5.0


@dataclass
class Flight:
    """A job at the broker: its lease token is its task id."""

    id: str
    token: str
    sent_at: float
    deadline: float
    started: bool = False


def payload(store: Store, config: Config, claim: Claim, timeout_s: float) -> dict:
    """The task message: the submission as stored (its files as JSON, or its zip or notebook), base64, and what to grade."""
    kind, data = store.payload(claim.id)
    return {"id": claim.id, "exercises": claim.exercises, "seed": claim.seed, "timeout_s": timeout_s,
            "attempts_before": claim.attempts - 1, "max_attempts": config.max_attempts,
            "kind": kind, "data": base64.b64encode(data).decode()}


class BrokerDispatcher:
    def __init__(self, store: Store, config: Config, on_change, metrics=None, app=None):
        from grader.worker.celery_app import hard_time_limit_s, make_app, visibility_timeout_s

        self.store, self.config, self.on_change, self.metrics = store, config, on_change, metrics
        self.app = app or make_app(config.broker)
        self.backend = self.app.backend
        self.slots = 0  # live worker slots, as the workers last told
        # A job that no worker reported on after this long is taken back (never stuck).
        self.lost_after_s = (hard_time_limit_s() + visibility_timeout_s()) * config.max_attempts + 60.0
        self._flights: dict[str, Flight] = {}  # token -> flight
        self._lock = threading.Lock()
        self._collecting = threading.Lock()  # one reader of the backend at a time: a result is recorded once
        self._cv = threading.Condition()
        self._version = 0  # bumped by every wake(): a wake between a check and a wait is not lost
        self._stopping = False
        self._quiet = False  # quiesce(): send nothing more
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ life

    def start(self) -> None:
        # Jobs a previous run sent are still at the broker (or graded, their reports waiting): adopt them.
        held = self.store.leases_held(HOLDER)
        self.store.renew([token for _, token in held], self.config.lease_s)
        for sid, status in self.store.recover(HOLDER, self.config.max_attempts, expired_only=False):
            event("job_recovered", id=sid, status=status)
            self.on_change(sid, status)
        now = time.monotonic()
        for sid, token in held:
            self._flights[token] = Flight(sid, token, now, now + self.lost_after_s)
        if held:
            event("broker_jobs_adopted", jobs=len(held))
        for target, name in ((self._send_loop, "broker-send"), (self._collect_loop, "broker-collect"),
                             (self._maintain, "broker-leases")):
            self._threads.append(threading.Thread(target=target, name=name, daemon=True))
        for t in self._threads:
            t.start()

    def wake(self) -> None:
        with self._cv:
            self._version += 1
            self._cv.notify_all()

    def running(self) -> int:
        with self._lock:
            return len(self._flights)

    def quiesce(self) -> None:
        """Send nothing more (safe in a signal handler: it takes no lock)."""
        self._quiet = True

    def stop(self, grace_s: float) -> None:
        """Send nothing more. Jobs at the broker go on: their leases stay, the next start collects them."""
        self._stopping = True
        self.wake()
        for t in self._threads:
            t.join(timeout=10)
        event("broker_jobs_left", jobs=self.running())

    # ------------------------------------------------------------ sending

    def window(self) -> int:
        return max(2, 2 * self.slots)

    def _seen(self) -> int:
        with self._cv:
            return self._version

    def _wait(self, seconds: float, seen: int | None = None) -> None:
        """Sleep until a wake() after `seen` (default: from now), `seconds` at most."""
        with self._cv:
            if not self._stopping and (seen is None or self._version == seen):
                self._cv.wait(seconds)

    def _adopt(self) -> None:
        """Send again an adopted job the broker does not hold: the last run died between its claim and its send.

        A job is at the broker when the result backend knows it (started or finished)
        or when its message waits in the queue or in Redis's unacknowledged set (where
        kombu keeps a message a worker holds); its task id is in the message's text.
        """
        from grader.worker.celery_app import QUEUE

        while not self._stopping:
            try:
                self.collect()
                with self._lock:
                    flights = list(self._flights.values())
                if not flights:
                    return
                client = self.backend.client
                known = client.mget([self.backend.get_key_for_task(f.token) for f in flights])
                waiting = [*client.lrange(QUEUE, 0, -1), *client.hvals("unacked")]
                text = b"\n".join(m if isinstance(m, bytes) else str(m).encode() for m in waiting)
                for flight, meta in zip(flights, known):
                    if meta is None and flight.token.encode() not in text:
                        self._send_again(flight)
                return
            except Exception as e:  # the broker is down: try again
                event("broker_unavailable", error=f"{type(e).__name__}: {e}"[:200])
                self._wait(1.0)

    def _send_again(self, flight: Flight) -> None:
        row = self.store.get(flight.id)
        if row is None or row["status"] != "running":
            return
        exercises = json.loads(row["exercises"]) if row["exercises"] else None
        claim = Claim(flight.id, flight.token, exercises, row["seed"], row["attempts"])
        with self._lock:
            self._flights.pop(flight.token, None)
        event("job_not_at_broker", id=flight.id)
        self._send(claim)

    def _send_loop(self) -> None:
        self._adopt()
        failures = 0
        while not self._stopping:
            seen = self._seen()
            if self._quiet or self.running() >= self.window():
                self._wait(1.0, seen)
                continue
            try:
                claim = self.store.claim(HOLDER, self.config.lease_s)
            except Exception as e:  # a busy or broken database: say so, try again
                event("claim_failed", error=repr(e))
                self._wait(1.0)
                continue
            if claim is None:
                self._wait(1.0, seen)
                continue
            if self._send(claim):
                failures = 0
            else:
                failures += 1
                self._wait(min(5.0, 0.25 * 2 ** failures))

    def _send(self, claim: Claim) -> bool:
        from grader.pool import job_timeout
        from grader.worker.celery_app import QUEUE, TASK_NAME

        timeout = self.config.job_timeout_s or job_timeout(claim.exercises)
        try:
            message = payload(self.store, self.config, claim, timeout)
        except Exception as e:  # a row without its payload: nothing to send, ever
            self._failed(claim.id, claim.token, "grader_error", f"the submission's stored files cannot be read: {e}")
            return True
        now = time.monotonic()
        with self._lock:
            self._flights[claim.token] = Flight(claim.id, claim.token, now, now + self.lost_after_s)
        try:
            self.app.send_task(TASK_NAME, args=[message], task_id=claim.token, queue=QUEUE,
                               time_limit=timeout + 30.0, retry=False)
        except Exception as e:  # the broker is down: hand the job back, uncounted, and try again soon
            with self._lock:
                self._flights.pop(claim.token, None)
            if self.store.release(claim.id, claim.token):
                self.on_change(claim.id, "queued")
            event("broker_unavailable", id=claim.id, error=f"{type(e).__name__}: {e}"[:200])
            return False
        self.on_change(claim.id, "running")
        event("job_sent", id=claim.id, attempt=claim.attempts)
        return True

    # ------------------------------------------------------------ results

    def _collect_loop(self) -> None:
        from grader.worker.celery_app import RESULTS_PREFIX

        pubsub = None
        while not self._stopping:
            try:
                if pubsub is None:
                    pubsub = self.backend.client.pubsub(ignore_subscribe_messages=True)
                    pubsub.psubscribe(RESULTS_PREFIX + "*")
                if pubsub.get_message(timeout=0.5) is not None:
                    while pubsub.get_message(timeout=0) is not None:  # one read of the backend for a burst
                        pass
                self.collect()
            except Exception as e:  # the broker is down or restarting: read again when it is back
                event("results_unavailable", error=f"{type(e).__name__}: {e}"[:200])
                try:
                    if pubsub is not None:
                        pubsub.close()
                except Exception:
                    pass
                pubsub = None
                time.sleep(1.0)

    def collect(self) -> int:
        """Record every result waiting in the backend for a job at the broker; how many were."""
        with self._collecting:
            return self._collect()

    def _collect(self) -> int:
        from celery import states

        with self._lock:
            flights = list(self._flights.values())
        done = 0
        for start in range(0, len(flights), 500):
            chunk = flights[start:start + 500]
            values = self.backend.mget([self.backend.get_key_for_task(f.token) for f in chunk])
            for flight, raw in zip(chunk, values):
                if raw is None:
                    continue
                meta = self.backend.decode_result(raw)
                if meta.get("status") == states.STARTED:
                    flight.started = True
                elif meta.get("status") in states.READY_STATES:
                    self._record(flight, meta)
                    done += 1
        if done:
            self.wake()
        return done

    def _record(self, flight: Flight, meta: dict) -> None:
        from celery import states

        from grader.worker.celery_app import DELIVERIES_PREFIX

        result = meta.get("result")
        if meta["status"] == states.SUCCESS and isinstance(result, dict):
            if isinstance(result.get("attempts"), int):
                self.store.count_attempts(flight.id, flight.token, result["attempts"])
            if isinstance(result.get("report"), dict):
                self._finished(flight, result["report"])
            else:
                error = result.get("error") or {}
                self._failed(flight.id, flight.token, str(error.get("code", "grader_error")),
                             str(error.get("message", "the worker sent no report")))
        else:  # the task raised, hit the hard time limit, or was revoked
            kind = result.get("exc_type", "") if isinstance(result, dict) else ""
            if kind == "TimeLimitExceeded":
                self._failed(flight.id, flight.token, "timeout", "grading took longer than the hard time limit")
            else:
                self._failed(flight.id, flight.token, "grader_error",
                             f"the grading worker failed: {kind or meta['status']}")
        with self._lock:
            self._flights.pop(flight.token, None)
        client = self.backend.client
        client.delete(self.backend.get_key_for_task(flight.token), DELIVERIES_PREFIX + flight.token)

    def _finished(self, flight: Flight, report: dict) -> None:
        if self.store.finish(flight.id, flight.token, report):
            seconds = time.monotonic() - flight.sent_at
            if self.metrics is not None:
                self.metrics.grading.observe(seconds)
            event("job_done", id=flight.id, score=report.get("score"), seconds=round(seconds, 3))
            self.on_change(flight.id, "done")
        else:
            event("late_reply_ignored", id=flight.id)

    def _failed(self, sid: str, token: str, code: str, message: str) -> None:
        status = self.store.retry(sid, token, code, message, self.config.max_attempts)
        event("job_retry" if status == "queued" else "job_failed", id=sid, code=code, message=message)
        if self.metrics is not None:
            self.metrics.retried.labels(code).inc()
        with self._lock:
            self._flights.pop(token, None)
        if status is not None:
            self.on_change(sid, status)
            self.wake()

    # ------------------------------------------------------------ leases and workers

    def _maintain(self) -> None:
        period = max(0.2, min(5.0, self.config.lease_s / 3))
        inspected = 0.0
        while not self._stopping:
            try:
                with self._lock:
                    flights = list(self._flights.values())
                self.store.renew([f.token for f in flights], self.config.lease_s)
                now = time.monotonic()
                for f in flights:
                    if now > f.deadline:
                        self._lost(f)
                if now - inspected >= INSPECT_EVERY_S:
                    inspected = now
                    slots = self._live_slots()
                    if slots != self.slots:
                        event("broker_workers", slots=slots)
                        self.slots = slots
                        self.wake()
            except Exception as e:
                event("lease_maintenance_failed", error=repr(e)[:200])
            self._sleep(period)

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < end:
            time.sleep(min(0.2, end - time.monotonic()))

    def _lost(self, flight: Flight) -> None:
        """No report in time: a job no worker started goes back uncounted; one that started counts as an attempt."""
        if flight.started:
            self._failed(flight.id, flight.token, "lost", "no worker reported on this submission in time")
            return
        with self._lock:
            self._flights.pop(flight.token, None)
        if self.store.release(flight.id, flight.token):
            event("job_resent", id=flight.id)
            self.on_change(flight.id, "queued")
            self.wake()

    def _live_slots(self) -> int:
        try:
            stats = self.app.control.inspect(timeout=2.0).stats() or {}
        except Exception:
            return self.slots  # the broker is down: keep the last count
        return sum(int(s.get("pool", {}).get("max-concurrency", 0) or 0) for s in stats.values())
