"""Retention: `grade serve --retain-days N` deletes finished submissions N days after they ended.

A thread of the service prunes, at start and then every tenth of the retention
period (at most hourly), the submissions that are `done`, `failed` or `cancelled`
and finished more than N days ago, with their stored files (the payload) and
report. Queued and running submissions are never touched, nor one whose
callback is still to be delivered. `--retain-days 0` keeps everything.
"""

from __future__ import annotations

import threading
import time

from grader.service.logs import event
from grader.service.store import Store

DAY_S = 86400.0


def period_s(retain_days: float) -> float:
    """How often to prune: a tenth of the retention, between one second and one hour."""
    return min(3600.0, max(1.0, retain_days * DAY_S / 10))


class Pruner:
    def __init__(self, store: Store, retain_days: float, metrics=None):
        self.store, self.retain_days, self.metrics = store, retain_days, metrics
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.retain_days <= 0:
            return
        self._halt.clear()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def prune(self) -> int:
        """Delete what is past retention now; how many submissions were deleted."""
        before = time.time() - self.retain_days * DAY_S
        total = 0
        while not self._halt.is_set():
            n = self.store.prune(before)  # in batches: the web process's writes wait for one batch at most
            total += n
            if n == 0:
                break
        if total:
            event("pruned", submissions=total, retain_days=self.retain_days)
            if self.metrics is not None:
                self.metrics.pruned.inc(total)
        return total

    def _loop(self) -> None:
        while True:
            try:
                self.prune()
            except Exception as e:  # a busy or broken database: say so, try again next time
                event("prune_failed", error=repr(e)[:200])
            if self._halt.wait(period_s(self.retain_days)):
                return
