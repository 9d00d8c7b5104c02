"""The score outbox over the service's store, in this process: only graded submissions get a score."""

from __future__ import annotations

import json
import time

from grader.lti.store import LtiStore
from grader.service.store import Store


def _submission(store: Store, sid: str, status: str) -> None:
    with store._write() as db:
        db.execute("INSERT INTO submissions (id, key_name, request_hash, status, metadata, received_at, created_at, "
                   "score, max_score, report, graded_at) VALUES (?, 'lti:1', 'h', ?, '{}', ?, ?, ?, ?, ?, ?)",
                   (sid, status, time.time(), time.time(), 10.0 if status == "done" else None, 10.0,
                    json.dumps({"score": 10.0, "max_score": 10.0}) if status == "done" else None,
                    time.time() if status == "done" else None))


def test_only_graded_submissions_get_one_score_row(tmp_path):
    store = Store(tmp_path / "service.db")
    lti = LtiStore(store)
    pid = lti.add_platform("https://lms.example", "c1", ["d1"], "https://lms.example/auth", "https://lms.example/token",
                           "https://lms.example/jwks")
    link = lti.link(pid, "d1", "rl-1", "1", "Exercise 1", "https://lms.example/lineitems/1", "Course")
    for sid, status in (("graded", "done"), ("broken", "failed"), ("waiting", "queued"), ("gone", "cancelled")):
        _submission(store, sid, status)
        lti.add_submission(sid, link["id"], "u1", "U One")
    assert lti.enqueue() == 1  # at start: the graded one only
    assert lti.enqueue() == 0 and lti.enqueue("graded") == 0  # never a second row
    assert lti.enqueue("broken") == 0
    rows = store.all("SELECT submission_id, state FROM lti_scores")
    assert [(r["submission_id"], r["state"]) for r in rows] == [("graded", "pending")]


def test_a_nonce_is_good_once_and_a_state_for_one_launch(tmp_path):
    lti = LtiStore(Store(tmp_path / "service.db"))
    pid = lti.add_platform("https://lms.example", "c1", ["d1"], "a", "t", "j")
    state, nonce = lti.new_state(pid, None)
    assert lti.take_state(state)["nonce"] == nonce and lti.take_state(state) is None
    assert lti.use_nonce(pid, nonce, time.time() + 60) and not lti.use_nonce(pid, nonce, time.time() + 60)
    again = LtiStore(Store(tmp_path / "service.db"))  # another web worker, or the next run
    assert not again.use_nonce(pid, nonce, time.time() + 60)


def test_a_rotated_key_stays_listed_for_an_hour_then_is_dropped(tmp_path):
    from grader.lti import keys

    first = keys.load(tmp_path)
    assert len(first) == 1 and (tmp_path / "lti_keys.json").stat().st_mode & 0o777 == 0o600
    new, old = keys.rotate(tmp_path)
    tool = keys.ToolKeys(tmp_path)
    assert {k["kid"] for k in tool.jwks()["keys"]} == {new, old}
    token = tool.sign({"aud": "x"})
    assert json.loads(json.dumps(tool.verify(token, "x")))["aud"] == "x"
    listed = json.loads((tmp_path / "lti_keys.json").read_text())
    for k in listed:
        if k["kid"] == old:
            k["retired_at"] = time.time() - keys.RETIRED_LISTED_S - 1
    (tmp_path / "lti_keys.json").write_text(json.dumps(listed))
    assert [k["kid"] for k in keys.load(tmp_path)] == [new]
