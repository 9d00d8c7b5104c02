"""Limits that keep one client from hurting the others: body size, a rate per key, a queue cap."""

from __future__ import annotations

import json
import math
import threading
import time

from grader.service.errors import ApiError, body


class BodyLimit:
    """ASGI middleware: 413 for a body over `limit` bytes, by its Content-Length or while it streams in."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = False
                if too_big:
                    return await self._refuse(send)
        seen = 0
        over = refused = False

        async def counting_receive():
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise _TooLarge
            return message

        async def checked_send(message):
            nonlocal refused
            if not over:
                return await send(message)
            # The app answered after its body was cut off (FastAPI calls that a parse error): answer 413 instead.
            if message["type"] == "http.response.start" and not refused:
                refused = True
                await self._refuse(send)

        try:
            await self.app(scope, counting_receive, checked_send)
        except _TooLarge:
            if not refused:
                refused = True
                await self._refuse(send)

    async def _refuse(self, send) -> None:
        payload = json.dumps(body("too_large", f"the body is larger than {self.limit} bytes")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})


class _TooLarge(Exception):
    pass


class RateLimiter:
    """A token bucket per key: `rate` requests a minute, bursts of up to a minute's worth."""

    def __init__(self, default_per_minute: float):
        self.default = default_per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, key: str, per_minute: float | None) -> None:
        """Spend one token of `key`'s bucket; ApiError 429 with Retry-After when there is none."""
        rate = (per_minute or self.default) / 60.0
        capacity = max(1.0, rate * 60.0)
        now = time.monotonic()
        with self._lock:
            tokens, when = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - when) * rate)
            if tokens < 1.0:
                wait = math.ceil((1.0 - tokens) / rate)
                self._buckets[key] = (tokens, now)
                raise ApiError(429, "rate_limited", f"this key may create {rate * 60:g} submissions a minute; "
                               f"try again in {wait} s", {"Retry-After": str(wait)})
            self._buckets[key] = (tokens - 1.0, now)


def check_queue(queued: int, cap: int, workers: int) -> None:
    """ApiError 503 with Retry-After when `cap` submissions are waiting already."""
    if queued >= cap:
        wait = max(1, min(60, math.ceil(queued / max(1, workers))))
        raise ApiError(503, "queue_full", f"{queued} submissions are waiting to be graded; try again in {wait} s",
                       {"Retry-After": str(wait)})
