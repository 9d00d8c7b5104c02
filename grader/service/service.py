"""One running service: its store, dispatcher, callback sender, pruner, limits, metrics, and waiters.

The routes (`app.py`) are thin views over this object. Nothing here grades:
grading happens in the pool's worker processes, driven by the dispatcher.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from datetime import datetime, timezone

from grader.service import callbacks, dispatch, retention
from grader.service.config import Config
from grader.service.limits import RateLimiter
from grader.service.metrics import Metrics
from grader.service.store import TERMINAL, Store


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def render(row) -> dict:
    """The submission object of the contract (plus `exercises`, `seed` and `timings`)."""
    status = row["status"]
    callback = None
    if row["callback_url"]:
        callback = {"url": row["callback_url"], "state": row["callback_state"] or "pending",
                    "attempts": row["callback_attempts"], "last_error": row["callback_error"],
                    "delivered_at": iso(row["callback_at"]) if row["callback_state"] == "delivered" else None}
    started, graded = row["started_at"], row["graded_at"]
    return {
        "id": row["id"],
        "status": status,
        "external_id": row["external_id"],
        "metadata": json.loads(row["metadata"]),
        "created_at": iso(row["created_at"]),
        "started_at": iso(started),
        "finished_at": iso(row["finished_at"]),
        "attempts": row["attempts"],
        "score": row["score"] if status == "done" else None,
        "max_score": row["max_score"] if status == "done" else None,
        "report": json.loads(row["report"]) if status == "done" and row["report"] else None,
        "error": json.loads(row["error"]) if status == "failed" and row["error"] else None,
        "callback": callback,
        "exercises": json.loads(row["exercises"]) if row["exercises"] else None,
        "seed": row["seed"],
        "timings": {
            "received_at": iso(row["received_at"]),
            "queued_s": round(started - row["created_at"], 3) if started else None,
            "graded_at": iso(graded),
            "grading_s": round(graded - started, 3) if graded and started else None,
        },
    }


class Waiters:
    """`?wait=S`: handlers sleep on an event per submission; the dispatcher's threads set it on a change."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._events: dict[str, set[asyncio.Event]] = {}

    def notify(self, sid: str) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._set, sid)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def _set(self, sid: str) -> None:
        for ev in self._events.get(sid, ()):
            ev.set()

    async def until_finished(self, store: Store, sid: str, seconds: float):
        """The row once finished or when `seconds` have passed; the database row is re-read on every wake-up."""
        self.loop = asyncio.get_running_loop()
        deadline = time.monotonic() + seconds
        ev = asyncio.Event()
        self._events.setdefault(sid, set()).add(ev)
        try:
            while True:
                row = store.get(sid)
                left = deadline - time.monotonic()
                if row is None or row["status"] in TERMINAL or left <= 0:
                    return row
                ev.clear()
                try:
                    await asyncio.wait_for(ev.wait(), timeout=min(left, 1.0))
                except TimeoutError:
                    pass
        finally:
            found = self._events.get(sid)
            if found is not None:
                found.discard(ev)
                if not found:
                    self._events.pop(sid, None)


class Service:
    def __init__(self, config: Config):
        self.config = config
        config.data.mkdir(parents=True, exist_ok=True)
        self.store = Store(config.db_path)
        self.background = Store(config.db_path, synchronous="NORMAL")  # the dispatcher's and the sender's
        self.metrics = Metrics(self.store.counts, max(1, config.workers))
        self.limiter = RateLimiter(config.rate_per_minute)
        self.waiters = Waiters()
        self.dispatcher = dispatch.make(config, self.background, self.changed, self.metrics)
        self.sender = callbacks.Sender(self.background, render, config.callback_delays, config.allow_private_callbacks,
                                       config.callback_timeout_s, self.metrics)
        self.pruner = retention.Pruner(self.background, config.retain_days, self.metrics)
        self.extras: list = []  # started and stopped with the service, told of every change (the LTI score sender)
        self._started = False
        self._lock = threading.Lock()

    def changed(self, sid: str, status: str) -> None:
        if status in TERMINAL:
            self.metrics.finished.labels(status).inc()
            self.sender.wake()
        for extra in self.extras:
            extra.changed(sid, status)
        self.waiters.notify(sid)

    def tidy(self) -> None:
        """Before serving: empty the scratch folder (jobs written out for workers by a previous run)."""
        shutil.rmtree(self.config.scratch_dir, ignore_errors=True)
        self.config.scratch_dir.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        self.waiters.loop = _running_loop()
        for extra in self.extras:
            extra.start()
        self.dispatcher.start()
        self.sender.start()
        self.pruner.start()

    def stop(self) -> None:
        with self._lock:
            if not self._started:
                return
            self._started = False
        self.pruner.stop()
        self.sender.stop()
        self.dispatcher.stop(self.config.drain_s)
        for extra in self.extras:
            extra.stop()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
