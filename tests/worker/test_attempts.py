"""The attempts cap: a job whose deliveries all ended with their worker ends `failed`, never stuck.

The real task (run in this process, against the cluster's real Redis) counts its
deliveries there; the fourth delivery of a job answers `worker_lost` without
grading, and the service's dispatcher records the submission as `failed` after 3
attempts. A duplicate of that answer changes nothing.
"""

from __future__ import annotations

import base64
import json
import time

from grader.service.broker import BrokerDispatcher, Flight, payload
from grader.service.config import Config
from grader.service.store import Store
from grader.worker.celery_app import DELIVERIES_PREFIX, TASK_NAME, make_app
from grader.worker.tasks import register
from tests.worker.conftest import SOLUTION


def test_a_job_whose_workers_all_died_is_failed_after_three_attempts(cluster, tmp_path):
    store = Store(tmp_path / "service.db")
    store.create({"id": "s0", "key_name": "k", "external_id": None, "request_hash": "h", "status": "queued",
                  "exercises": json.dumps([1]), "seed": None, "metadata": "{}", "received_at": time.time(),
                  "created_at": time.time(), "callback_url": None}, ("files", json.dumps({"loss.py": SOLUTION}).encode()))
    config = Config(data=tmp_path, broker=cluster.redis.url)
    claim = store.claim("broker", 30)
    message = payload(store, config, claim, timeout_s=60)
    assert message["kind"] == "files" and json.loads(base64.b64decode(message["data"])) == {"loss.py": SOLUTION}

    app = make_app(cluster.redis.url)
    register(app)
    app.backend.client.set(DELIVERIES_PREFIX + claim.token, 3)  # three deliveries whose workers were killed
    answer = app.tasks[TASK_NAME].apply(args=[message], task_id=claim.token).get()
    assert answer == {"attempts": 3, "error": {"code": "worker_lost",
                                               "message": "the grading worker was lost each time this submission was graded"}}

    changes = []
    dispatcher = BrokerDispatcher(store, config, lambda sid, status: changes.append((sid, status)), app=app)
    flight = Flight(claim.id, claim.token, time.monotonic(), time.monotonic() + 60)
    dispatcher._record(flight, {"status": "SUCCESS", "result": answer})
    dispatcher._record(flight, {"status": "SUCCESS", "result": answer})  # a duplicate: nothing changes
    row = store.get("s0")
    assert row["status"] == "failed" and row["attempts"] == 3, dict(row)
    assert json.loads(row["error"])["code"] == "worker_lost"
    assert changes == [("s0", "failed")]
    assert app.backend.client.get(DELIVERIES_PREFIX + claim.token) is None  # tidied once recorded


def test_a_late_report_from_an_old_holder_is_ignored(cluster, tmp_path):
    store = Store(tmp_path / "service.db")
    store.create({"id": "s1", "key_name": "k", "external_id": None, "request_hash": "h", "status": "queued",
                  "exercises": json.dumps([1]), "seed": None, "metadata": "{}", "received_at": time.time(),
                  "created_at": time.time(), "callback_url": None}, ("files", json.dumps({"loss.py": SOLUTION}).encode()))
    old = store.claim("broker", 0.01)
    time.sleep(0.05)
    assert store.recover("broker", max_attempts=3) == [("s1", "queued")]  # its lease ran out: claimed afresh
    new = store.claim("broker", 30)
    assert new.token != old.token and new.attempts == 2
    changes = []
    dispatcher = BrokerDispatcher(store, Config(data=tmp_path, broker=cluster.redis.url),
                                  lambda sid, status: changes.append((sid, status)), app=make_app(cluster.redis.url))
    now = time.monotonic()
    late = {"score": 0.0, "max_score": 10.0, "submission": "s1"}
    dispatcher._record(Flight("s1", old.token, now, now + 60), {"status": "SUCCESS",
                                                                  "result": {"attempts": 5, "report": late}})
    row = store.get("s1")
    assert (row["status"], row["attempts"], row["report"]) == ("running", 2, None) and changes == []
    report = {"score": 10.0, "max_score": 10.0, "submission": "s1"}
    dispatcher._record(Flight("s1", new.token, now, now + 60), {"status": "SUCCESS",
                                                                  "result": {"attempts": 2, "report": report}})
    row = store.get("s1")
    assert (row["status"], row["score"], row["attempts"]) == ("done", 10.0, 2) and changes == [("s1", "done")]
