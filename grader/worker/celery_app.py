"""The Celery app shared by `grade serve --broker` (which sends) and `grade worker` (which grades).

Everything Celery's reliability guide asks for is set here, in one place:

- `task_acks_late` + `task_reject_on_worker_lost`: a job's message is acknowledged
  only once its report is stored; a child that dies mid-job puts the message back.
- `worker_prefetch_multiplier = 1`: a worker holds no more jobs than it has slots,
  so a job never waits behind a long one on a busy machine while another is idle.
- `visibility_timeout`: Redis gives an unacknowledged job to another worker after
  this long (a worker killed with its children, a host that vanished): 40 s, and a
  sweep for such jobs every 4 s, so a dead worker's job runs again elsewhere within
  a minute. A live worker renews the hold on its jobs every fifth of that
  (`grader.worker.leases`), so a job longer than the timeout is never taken away
  from a worker that is still grading it.
- `task_time_limit`: the hard limit kills the child and a new one takes its slot.
  It is a backstop: the pool worker inside the child has the job's own timeout.
- `worker_soft_shutdown_timeout`: on SIGTERM (`grade worker` maps it to Celery's cold
  shutdown) a running job gets this long to finish, then it is handed back at once.

Importing this module is light (Celery and the catalog; no TensorFlow, no NumPy).
"""

from __future__ import annotations

import os

from celery import Celery

TASK_NAME = "grader.grade"
QUEUE = "grader"
RESULTS_PREFIX = "celery-task-meta-"  # the Redis result backend's keys (and its pub/sub channels)
DELIVERIES_PREFIX = "grader:deliveries:"
RESULT_EXPIRES_S = 7 * 24 * 3600  # a service down for less than this still collects its reports
SOFT_SHUTDOWN_S = 30.0
VISIBILITY_S = 40.0


def _env_float(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


def hard_time_limit_s() -> float:
    """The longest a job may run: every exercise's limits (`job_timeout`), plus a margin for the pool worker's own kill."""
    from grader.pool import job_timeout

    return _env_float("GRADER_JOB_TIME_LIMIT_S") or job_timeout(None) + 30.0


def visibility_timeout_s() -> float:
    """How long after its worker's last renewal Redis gives an unacknowledged job to another worker."""
    return _env_float("GRADER_BROKER_VISIBILITY_S") or VISIBILITY_S


def renew_every_s() -> float:
    """How often a live worker renews the hold on its jobs: five chances before the hold runs out."""
    return visibility_timeout_s() / 5


def transport_options() -> dict:
    visibility = visibility_timeout_s()
    # Look for abandoned jobs every tenth of the visibility timeout (kombu's default: every 100 s).
    sweep = max(1, min(10, int(visibility / 10)))
    # The sweep runs under a lock in Redis; a worker killed while it holds the lock would keep
    # every abandoned job from being handed out until it expires (kombu's default: 300 s).
    mutex = max(10, 3 * sweep)
    return {"visibility_timeout": visibility, "unacked_restore_interval": sweep, "unacked_restore_throttle": 1,
            "unacked_mutex_expire": mutex,
            "socket_timeout": 30, "socket_connect_timeout": 5}


def make_app(broker_url: str) -> Celery:
    app = Celery("grader", broker=broker_url, backend=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_default_queue=QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,  # a job that raised or hit the hard limit: the service decides
        task_track_started=True,
        task_time_limit=hard_time_limit_s(),
        worker_prefetch_multiplier=1,
        worker_soft_shutdown_timeout=_env_float("GRADER_SOFT_SHUTDOWN_S") or SOFT_SHUTDOWN_S,
        worker_enable_soft_shutdown_on_idle=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,  # the job goes on; its ack may fail, then redelivery
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        broker_transport_options=transport_options(),
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits for the broker as long as it is down
        # A report finished while Redis is down waits for it (about a minute) instead of failing the job.
        result_backend_always_retry=True,
        result_backend_max_retries=40,
        result_backend_base_sleep_between_retries_ms=200,
        result_backend_max_sleep_between_retries_ms=2000,
        result_backend_transport_options={"retry_policy": {"max_retries": 40, "interval_start": 0,
                                                           "interval_step": 0.5, "interval_max": 2}},
        result_expires=RESULT_EXPIRES_S,
        result_extended=False,
        redis_backend_health_check_interval=10,
    )
    return app
