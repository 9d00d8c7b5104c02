"""The settings of one service: what `grade serve` was started with."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA = Path(".grader/service")
# Delays before each try of a callback: 6 tries over about 10 minutes.
DEFAULT_CALLBACK_DELAYS = (0.0, 10.0, 30.0, 90.0, 180.0, 300.0)


def parse_delays(text: str) -> tuple[float, ...]:
    """`"0,10,30"` -> (0.0, 10.0, 30.0); ValueError on anything else."""
    delays = tuple(float(part) for part in text.split(",") if part.strip())
    if not delays or any(d < 0 for d in delays):
        raise ValueError("give one or more non-negative numbers of seconds, comma-separated")
    return delays


@dataclass(frozen=True)
class Config:
    data: Path = DEFAULT_DATA
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    allow_private_callbacks: bool = False
    max_body_bytes: int = 8 * 1024 * 1024
    metadata_bytes: int = 4096
    queue_max: int = 1000  # queued submissions before POST answers 503
    rate_per_minute: float = 120.0  # per key, unless the key has its own
    callback_delays: tuple[float, ...] = DEFAULT_CALLBACK_DELAYS
    callback_timeout_s: float = 10.0
    max_attempts: int = 3  # claims of a submission before it is `failed`
    lease_s: float = 30.0  # a lease not renewed for this long returns its job to the queue
    job_timeout_s: float | None = None  # default: from the exercises' limits
    drain_s: float = 30.0  # on SIGTERM, how long running jobs may finish before they are handed back
    broker: str | None = None  # redis://...: jobs go to `grade worker` processes through this broker
    retain_days: float = 90.0  # finished submissions are deleted this long after they ended; 0: kept forever
    metrics_public: bool = False  # /metrics without a key
    public_url: str | None = None  # set: the service is also an LTI 1.3 tool at this address (grader.lti)
    lti_retry_base_s: float = 1.0  # first delay before a score post is retried; doubles up to 10 min

    @property
    def db_path(self) -> Path:
        return self.data / "service.db"

    @property
    def scratch_dir(self) -> Path:
        return self.data / "scratch"
