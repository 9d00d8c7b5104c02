"""A worker's hold on the jobs it has taken: the broker's visibility timeout, renewed while they run.

Kombu's Redis transport keeps every message a worker holds, unacknowledged, in a
sorted set (`unacked_index`) scored with the time it was delivered; the workers'
periodic sweep hands a message whose score is older than `visibility_timeout`
back to the queue. A short visibility timeout alone would bring a dead worker's
job back in seconds, but it would also take a long, healthy job away from its
worker. So each worker renews its own messages' scores every `renew_every_s()`
(a fifth of the timeout) from its event loop: a worker that is alive keeps its
jobs however long they run, and one that was killed stops renewing, so Redis
gives its jobs to another worker one visibility timeout (plus a sweep) later.

Only the scores of messages still in the set are touched (`ZADD XX`): a job
acknowledged or already handed back meanwhile is never brought back to life.
"""

from __future__ import annotations

import logging
import time

from celery import bootsteps
from celery.worker import state

from grader.worker.celery_app import renew_every_s

logger = logging.getLogger(__name__)


def held_tags() -> list[str]:
    """The delivery tags of every message this worker holds: received, waiting for a slot, or running."""
    tags = set()
    for request in [*state.reserved_requests, *state.active_requests]:
        message = request.message
        if message is not None and message.delivery_tag:
            tags.add(message.delivery_tag)
    return sorted(tags)


class HoldJobs(bootsteps.StartStopStep):
    """Renew the visibility of this worker's unacknowledged messages while it lives (a consumer bootstep)."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, c, **kwargs):
        self.tref = None
        super().__init__(c, **kwargs)

    def start(self, c) -> None:
        self.renew(c)  # at once: after a reconnection the scores may be old
        self.tref = c.timer.call_repeatedly(renew_every_s(), self.renew, (c,), priority=10)

    def stop(self, c) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    shutdown = stop

    def renew(self, c) -> int:
        """Mark every held message as delivered now; how many were renewed."""
        tags = held_tags()
        if not tags:
            return 0
        try:
            channel = c.task_consumer.channel
            now = time.time()
            with channel.conn_or_acquire() as client:
                return int(client.zadd(channel.unacked_index_key, {tag: now for tag in tags}, xx=True, ch=True) or 0)
        except Exception as e:  # the broker is away: the next beat tries again; the job goes on
            logger.warning("could not renew the hold on %d job(s) at the broker: %s: %s", len(tags),
                           type(e).__name__, e)
            return 0
