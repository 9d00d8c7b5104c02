"""`grade worker --broker redis://... [--concurrency N]`: a Celery worker that grades jobs from the broker."""

from __future__ import annotations

import os
import socket
from typing import Annotated, Optional

import typer

BROKER_SCHEMES = ("redis://", "rediss://", "redis+socket://")


def broker_problem(broker: str) -> str | None:
    """What is wrong with `--broker` on this machine, or None."""
    if not broker.startswith(BROKER_SCHEMES):
        return f"--broker must be a Redis URL (redis://host:6379/0), got {broker!r}"
    try:
        import celery  # noqa: F401
        import redis  # noqa: F401
    except ImportError:
        return "--broker needs Celery and the Redis client: they are dependencies of tinyml-grader: reinstall it (python -m pip install tinyml-grader)"
    return None


def worker(
    broker: Annotated[str, typer.Option("--broker", help="the broker the service sends jobs to: redis://host:6379/0")],
    concurrency: Annotated[Optional[int], typer.Option("--concurrency", "-c", min=1, help="grading slots: one warm worker process each, about 1 GiB [default: number of cores]")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="this worker's node name [default: grader-<pid>@<host>]")] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", help="Celery's log level")] = "INFO",
) -> None:
    """Grade submissions sent through the broker by `grade serve --broker` (needs only the broker, never the database)."""
    from grader import catalog

    problem = broker_problem(broker)
    try:
        catalog.secret_seed()  # a bad one would fail every job this worker takes
    except catalog.CatalogError as e:
        problem = problem or str(e)
    if problem is not None:
        typer.echo(f"grade: {problem}", err=True)
        raise typer.Exit(2)
    # SIGTERM (systemd, Kubernetes, docker stop) becomes Celery's cold shutdown with a soft
    # shutdown first: a running job gets worker_soft_shutdown_timeout to finish, then it is
    # handed back to the broker at once. Billiard reads this when it is first imported.
    os.environ.setdefault("REMAP_SIGTERM", "SIGQUIT")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from grader.worker.celery_app import make_app
    from grader.worker.tasks import register

    app = make_app(broker)
    register(app)
    slots = concurrency or os.cpu_count() or 1
    node = name or f"grader-{os.getpid()}@{socket.gethostname()}"
    app.worker_main(["worker", f"--concurrency={slots}", f"--loglevel={loglevel}", "-O", "fair", "-n", node,
                     "--without-gossip", "--without-mingle", "--pool=prefork"])


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
