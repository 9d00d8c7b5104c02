"""The grading task, run by `grade worker`'s Celery children.

Why each Celery child drives a pool worker process instead of grading in itself:
forking a process that has run TensorFlow ops hangs (tensorflow#27074), and
Celery's prefork pool forks a new child whenever one dies or hits the hard time
limit. So the Celery main process and its children never import TensorFlow: each
child starts, at `worker_process_init`, one `grader.pool.Worker` (a
`python -m grader.pool.worker_main` process whose warm `Grader` has a zygote that
imported TensorFlow and ran no op) and hands it job after job, exactly as
`grade batch` and the embedded `grade serve` do. The pool worker brings its
isolation along: a scratch directory of its own, everything a submission left
running killed after it, its own job timeout, and death with its parent (a
child killed by the hard time limit takes its grading process down too).

The message carries the submission itself (its files, or its archive, base64),
so a worker needs only the broker; the report goes back through the result
backend, and the service records it. A message that Redis delivers again (its
worker vanished) is counted in Redis; once a submission has had its attempts the
task answers with an error instead of grading it again, and the service marks it
`failed`: a submission that kills every worker that touches it is never stuck.
"""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path, PurePosixPath

from celery import Celery, signals

from grader.worker.celery_app import DELIVERIES_PREFIX, RESULT_EXPIRES_S, TASK_NAME

_slot = None  # this Celery child's pool (one warm worker process)


def _start_slot(**_) -> None:
    global _slot
    from grader.pool import Pool

    _slot = Pool(slots=1, scratch=Path(tempfile.mkdtemp(prefix="grader-celery-")))
    _slot.warm_up()  # TensorFlow loads now, not when the first job arrives


def _stop_slot(**_) -> None:
    if _slot is not None:
        _slot.close()


def _unpack(payload: dict, into: Path) -> Path:
    """Write the message's submission under `into`, as the service stored it: the path to grade.

    `kind` is `files` (JSON of path -> source), `zip` or `ipynb`. Paths are checked
    again here: a worker trusts the broker's messages no further than it must.
    """
    kind, data = payload["kind"], base64.b64decode(payload["data"])
    if kind in ("zip", "ipynb"):
        target = into / f"submission.{kind}"
        target.write_bytes(data)
        return target
    if kind != "files":
        raise ValueError(f"unknown kind {kind!r}")
    target = into / "files"
    target.mkdir()
    for name, text in json.loads(data).items():
        rel = PurePosixPath(name)
        if not name or rel.is_absolute() or ".." in rel.parts or "\\" in name or "\0" in name:
            raise ValueError(f"unsafe path in the message: {name!r}")
        path = target.joinpath(*rel.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


def _job_fields(payload: dict) -> tuple[list[int] | None, int | None, float]:
    """The message's exercises, seed and timeout, checked: a bad one would end the warm pool worker
    (reported as `worker_lost`, and the worker restarted for each attempt) instead of naming the message."""
    from grader import catalog
    from grader.pool.worker_main import SEED_LIMIT

    sid = payload.get("id")
    if not isinstance(sid, str) or not sid:
        raise ValueError(f"'id' must be a non-empty string, got {sid!r}"[:300])
    exercises, seed = payload.get("exercises"), payload.get("seed")
    if exercises is not None:
        if not isinstance(exercises, list) or not exercises or not all(type(n) is int for n in exercises):
            raise ValueError(f"'exercises' must be a non-empty list of exercise numbers, got {exercises!r}"[:300])
        for n in exercises:
            try:
                catalog.exercise(n)
            except catalog.CatalogError as e:
                raise ValueError(f"'exercises': {e}") from None
    if seed is not None and not (type(seed) is int and 0 <= seed < SEED_LIMIT):
        raise ValueError(f"'seed' must be an integer from 0 to 2**63 - 1, got {seed!r}"[:300])
    timeout = payload.get("timeout_s")
    if type(timeout) not in (int, float) or not 0 < timeout < float("inf"):
        raise ValueError(f"'timeout_s' must be a positive number of seconds, got {timeout!r}"[:300])
    return exercises, seed, float(timeout)


def grade_payload(payload: dict, attempts: int) -> dict:
    """Grade one message's submission in this child's warm pool worker: `{"report": ...}` or `{"error": ...}`."""
    from grader.pool import Job, PoolClosed, WorkerLost, WorkerTimeout

    try:
        exercises, seed, timeout = _job_fields(payload)
    except ValueError as e:
        return {"attempts": attempts, "error": {"code": "bad_message", "message": f"the job message is unusable: {e}"}}
    if _slot is None:
        _start_slot()
    with tempfile.TemporaryDirectory(prefix="grader-msg-") as scratch:
        try:
            path = _unpack(payload, Path(scratch))
        except (ValueError, KeyError, TypeError) as e:
            return {"attempts": attempts, "error": {"code": "bad_message", "message": f"the job message is unusable: {e}"}}
        job = Job(id=payload["id"], path=path, exercises=exercises, seed=seed, timeout_s=timeout)
        try:
            report = _slot.grade(job)
        except WorkerTimeout:
            return {"attempts": attempts,
                    "error": {"code": "timeout", "message": f"grading took longer than {timeout:.0f} s and was stopped"}}
        except (WorkerLost, PoolClosed) as e:
            return {"attempts": attempts,
                    "error": {"code": "worker_lost", "message": f"the grading worker ended ({getattr(e, 'message', e)})"}}
    return {"attempts": attempts, "report": report.model_dump(mode="json")}


def register(app: Celery) -> None:
    """Add the grading task to `app` (the worker's), start a warm pool worker in each Celery child,
    and keep the hold on running jobs at the broker (`grader.worker.leases`)."""
    from grader.worker.leases import HoldJobs

    app.steps["consumer"].add(HoldJobs)
    signals.worker_process_init.connect(_start_slot, weak=False)
    signals.worker_process_shutdown.connect(_stop_slot, weak=False)

    @app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)
    def grade(self, payload: dict) -> dict:
        key = DELIVERIES_PREFIX + self.request.id
        client = app.backend.client
        delivery = int(client.incr(key))
        client.expire(key, RESULT_EXPIRES_S)
        before, most = int(payload.get("attempts_before", 0)), int(payload.get("max_attempts", 3))
        if before + delivery > most:
            # Every earlier delivery of this message ended with its worker (kill -9, OOM, a host lost).
            return {"attempts": before + delivery - 1,
                    "error": {"code": "worker_lost",
                              "message": "the grading worker was lost each time this submission was graded"}}
        return grade_payload(payload, before + delivery)
