"""Prometheus metrics of one service, on a registry of its own (two apps in one test process stay apart)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

GRADING_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)


class _Queue:
    """Queue depth, running jobs and slots, read from the database when scraped."""

    def __init__(self, counts, workers: int):
        self.counts, self.workers = counts, workers

    def collect(self):
        counts = self.counts()
        for name, doc, value in (("grader_queue_depth", "submissions waiting to be graded", counts["queued"]),
                                 ("grader_running", "submissions being graded", counts["running"]),
                                 ("grader_workers", "grading slots", self.workers)):
            family = GaugeMetricFamily(name, doc)
            family.add_metric([], value)
            yield family


class Metrics:
    def __init__(self, counts, workers: int):
        self.registry = CollectorRegistry()
        self.registry.register(_Queue(counts, workers))
        self.finished = Counter("grader_submissions_finished", "submissions that reached an end, by status",
                                ["status"], registry=self.registry)
        self.retried = Counter("grader_jobs_retried", "jobs sent back to the queue, by reason", ["reason"],
                               registry=self.registry)
        self.grading = Histogram("grader_grading_seconds", "time from claim to report of one job",
                                 buckets=GRADING_BUCKETS, registry=self.registry)
        self.requests = Counter("grader_http_requests", "HTTP requests, by route template, method and status code",
                                ["route", "method", "code"], registry=self.registry)
        self.callbacks = Counter("grader_callbacks", "callback tries, by outcome", ["outcome"], registry=self.registry)
        self.pruned = Counter("grader_submissions_pruned", "finished submissions deleted after --retain-days",
                              registry=self.registry)

    def text(self) -> bytes:
        return generate_latest(self.registry)


class RequestMetrics:
    """ASGI middleware: count every request by its route template (never its raw path) and code."""

    def __init__(self, app, metrics: Metrics, log):
        self.app, self.metrics, self.log = app, metrics, log

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        code = 500

        async def record(message):
            nonlocal code
            if message["type"] == "http.response.start":
                code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(route, scope["method"], str(code)).inc()
            self.log("request", method=scope["method"], route=route, status=code,
                     ms=round((time.perf_counter() - start) * 1000, 1), key=scope.get("state", {}).get("key"))
