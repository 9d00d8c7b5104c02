"""Retention and deletion: `--retain-days` prunes finished submissions only; `grade keys purge` deletes a key's data.

The pruning is the server's: a real `grade serve` on 127.0.0.1 with a retention of
a few seconds (`--retain-days 0.0001`, 8.6 s) grades, and its finished
submissions disappear while a running and a queued one stay. It also serves
`/metrics` without a key (`--metrics-public`).
"""

from __future__ import annotations

import json
import sqlite3
import time

import httpx
import pytest

from grader.service import keys
from grader.service.store import Store
from tests.service.conftest import SOLUTION, Server, slow_solution

pytestmark = pytest.mark.timeout(300)


def _add(store: Store, sid: str, key: str, status: str, finished_ago: float | None, callback: str | None = None,
         source: str = "x = 1") -> None:
    now = time.time()
    store.create({"id": sid, "key_name": key, "external_id": None, "request_hash": "h", "status": status,
                  "exercises": json.dumps([1]), "seed": None, "metadata": "{}", "received_at": now,
                  "created_at": now, "callback_url": "https://lms.example/cb" if callback else None},
                 ("files", json.dumps({"loss.py": source}).encode()))
    with store._write() as db:
        db.execute("UPDATE submissions SET finished_at = ?, callback_state = ? WHERE id = ?",
                   (None if finished_ago is None else now - finished_ago, callback, sid))


def _ids(store: Store) -> set[str]:
    return {r["id"] for r in store.all("SELECT id FROM submissions")}


def test_prune_takes_finished_submissions_past_retention_only(tmp_path):
    store = Store(tmp_path / "service.db")
    for sid, status, ago, callback in [("old-done", "done", 100, None), ("old-failed", "failed", 100, "delivered"),
                                       ("old-cancelled", "cancelled", 100, None), ("new-done", "done", 1, None),
                                       ("old-callback-due", "done", 100, "pending"), ("queued", "queued", None, None),
                                       ("running", "running", None, None)]:
        _add(store, sid, "k", status, ago, callback)
    assert store.prune(time.time() - 50, batch=2) == 2
    assert store.prune(time.time() - 50, batch=2) == 1
    assert store.prune(time.time() - 50) == 0
    assert _ids(store) == {"new-done", "old-callback-due", "queued", "running"}
    assert {r["submission_id"] for r in store.all("SELECT submission_id FROM payloads")} == _ids(store)


def test_keys_purge_deletes_every_submission_of_one_key_for_good(tmp_path):
    from typer.testing import CliRunner

    from grader.cli import app

    data = tmp_path / "data"
    store = Store(data / "service.db")
    keys.create(store, "alice")
    keys.create(store, "bob")
    _add(store, "a1", "alice", "done", 1, source="ALICE_SECRET_MARKER_1 = 1")
    _add(store, "a2", "alice", "running", None, source="ALICE_SECRET_MARKER_2 = 2")
    _add(store, "b1", "bob", "done", 1)
    del store
    runner = CliRunner()
    refused = runner.invoke(app, ["keys", "purge", "alice", "--data", str(data)])
    assert refused.exit_code == 2 and "--yes" in refused.output and "Traceback" not in refused.output
    unknown = runner.invoke(app, ["keys", "purge", "carol", "--yes", "--data", str(data)])
    assert unknown.exit_code == 2 and "no key named 'carol'" in unknown.output
    done = runner.invoke(app, ["keys", "purge", "alice", "--yes", "--json", "--data", str(data)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"name": "alice", "submissions_deleted": 2}
    store = Store(data / "service.db")
    assert _ids(store) == {"b1"}
    assert [r["submission_id"] for r in store.all("SELECT submission_id FROM payloads")] == ["b1"]
    assert keys.exists(store, "alice")  # the key stays; `grade keys revoke` ends it
    # Overwritten, not left behind in the database's free pages or its write-ahead log.
    stored = b"".join(p.read_bytes() for p in data.glob("service.db*"))
    assert b"ALICE_SECRET_MARKER" not in stored


class RetainingServer(Server):
    ARGS = ["--workers", "1", "--rate-limit", "1000", "--drain", "1", "--retain-days", "0.0001", "--metrics-public"]


def _status(c: httpx.Client, sid: str) -> str | None:
    r = c.get(f"/v1/submissions/{sid}")
    return r.json()["status"] if r.status_code == 200 else None


def _until(what: str, test, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := test():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def test_a_server_prunes_finished_submissions_never_queued_or_running_ones(tmp_path):
    server = RetainingServer(tmp_path / "data")
    server.start()
    try:
        with server.client() as c:
            done = c.post("/v1/submissions?wait=120", json={"files": {"loss.py": SOLUTION}, "exercises": [1]}).json()
            assert done["status"] == "done", done
            running = c.post("/v1/submissions", json={"files": {"loss.py": slow_solution(25, "kept")},
                                                      "exercises": [1]}).json()["id"]
            queued = c.post("/v1/submissions", json={"files": {"loss.py": SOLUTION + "\n# queued\n"},
                                                     "exercises": [1]}).json()["id"]
            cancelled = c.post("/v1/submissions", json={"files": {"loss.py": SOLUTION + "\n# cancelled\n"},
                                                        "exercises": [1]}).json()["id"]
            assert c.delete(f"/v1/submissions/{cancelled}").json()["status"] == "cancelled"
            _until("the running job", lambda: _status(c, running) == "running", 60)
            _until("the finished submissions to be pruned",
                   lambda: _status(c, done["id"]) is None and _status(c, cancelled) is None, 60)
            assert (_status(c, running), _status(c, queued)) == ("running", "queued")
            db = sqlite3.connect(f"file:{server.data / 'service.db'}?mode=ro", uri=True)
            kept = {r[0] for r in db.execute("SELECT submission_id FROM payloads")}
            db.close()
            assert kept == {running, queued}
            # /metrics without a key (--metrics-public) counts what was pruned.
            text = httpx.get(f"{server.url}/metrics", timeout=10).text
            assert "grader_submissions_pruned_total 2.0" in text
            # Once they finish, their turn comes.
            _until("the other two to finish and be pruned",
                   lambda: _status(c, running) is None and _status(c, queued) is None, 120)
        pruned = [json.loads(line) for line in server.logs().splitlines() if '"pruned"' in line]
        assert sum(e["submissions"] for e in pruned) == 4
    finally:
        server.term()
