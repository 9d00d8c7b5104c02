"""The production settings that bound how long a dead worker's job waits (no broker needed)."""

from __future__ import annotations

from grader.worker.celery_app import make_app, renew_every_s, transport_options, visibility_timeout_s
from grader.worker.leases import HoldJobs
from grader.worker.tasks import register


def test_by_default_a_dead_workers_job_is_due_back_within_a_minute(monkeypatch):
    monkeypatch.delenv("GRADER_BROKER_VISIBILITY_S", raising=False)
    options = transport_options()
    # Due back one visibility timeout after the last renewal, found by the next sweep.
    assert options["visibility_timeout"] + options["unacked_restore_interval"] <= 60, options
    assert options["unacked_restore_throttle"] == 1
    # A worker killed while it held the sweep's lock does not hold up the sweep longer than that.
    assert options["unacked_mutex_expire"] < options["visibility_timeout"]
    # A live worker renews its hold several times before it could run out.
    assert renew_every_s() * 4 <= visibility_timeout_s()


def test_a_worker_renews_the_hold_on_its_jobs():
    app = make_app("redis://127.0.0.1:1/0")
    register(app)
    assert HoldJobs in app.steps["consumer"]
