"""Leases in the store: a job is claimed with a token; only that token ends it; lost leases come back."""

from __future__ import annotations

import json
import time

from grader.service.store import Store

REPORT = {"score": 10.0, "max_score": 10.0, "submission": "x"}


def _store(tmp_path, n: int = 1) -> Store:
    store = Store(tmp_path / "service.db")
    for i in range(n):
        store.create({"id": f"s{i}", "key_name": "k", "external_id": None, "request_hash": "h", "status": "queued",
                      "exercises": json.dumps([1]), "seed": None, "metadata": "{}",
                      "received_at": time.time(), "created_at": time.time(), "callback_url": None}, ("files", b"{}"))
    return store


def test_claims_are_in_order_and_only_the_holder_finishes(tmp_path):
    store = _store(tmp_path, 2)
    first, second = store.claim("a", 30), store.claim("a", 30)
    assert (first.id, second.id, first.attempts, first.exercises) == ("s0", "s1", 1, [1])
    assert store.claim("a", 30) is None
    assert not store.finish("s0", "not-the-token", REPORT)
    assert store.finish("s0", first.token, REPORT)
    assert not store.finish("s0", first.token, {**REPORT, "score": 0.0})  # a second reply changes nothing
    row = store.get("s0")
    assert row["status"] == "done" and row["score"] == 10.0 and json.loads(row["report"]) == REPORT


def test_an_expired_lease_sends_the_job_back_and_the_late_reply_is_ignored(tmp_path):
    store = _store(tmp_path)
    old = store.claim("a", 0.01)
    time.sleep(0.05)
    assert store.recover("a", max_attempts=3) == [("s0", "queued")]
    new = store.claim("a", 30)
    assert new.attempts == 2 and new.token != old.token
    assert not store.finish("s0", old.token, REPORT)  # the old holder's late reply
    assert store.get("s0")["status"] == "running"
    assert store.finish("s0", new.token, REPORT)


def test_a_renewed_lease_stays(tmp_path):
    store = _store(tmp_path)
    claim = store.claim("a", 0.2)
    store.renew([claim.token], 30)
    time.sleep(0.3)
    assert store.recover("a", max_attempts=3) == []


def test_three_failed_attempts_make_it_failed(tmp_path):
    store = _store(tmp_path)
    for attempt in (1, 2, 3):
        claim = store.claim("a", 30)
        assert claim.attempts == attempt
        status = store.retry("s0", claim.token, "worker_lost", "the grading worker ended", max_attempts=3)
        assert status == ("failed" if attempt == 3 else "queued")
    row = store.get("s0")
    assert row["status"] == "failed" and row["finished_at"] and row["report"] is None
    assert json.loads(row["error"])["code"] == "worker_lost"
    assert store.claim("a", 30) is None


def test_at_start_every_lease_of_another_holder_is_taken_back(tmp_path):
    store = _store(tmp_path, 2)
    store.claim("before-the-crash", 3600)
    assert store.recover("now", max_attempts=3, expired_only=False) == [("s0", "queued")]
    assert store.get("s0")["attempts"] == 1  # the interrupted attempt counts


def test_a_handed_back_job_does_not_count_an_attempt(tmp_path):
    store = _store(tmp_path)
    claim = store.claim("a", 30)
    assert store.release("s0", claim.token)
    row = store.get("s0")
    assert (row["status"], row["attempts"]) == ("queued", 0)
