"""The service's state: one SQLite database (WAL) of keys, submissions and leases.

The web process is its one writer. A job is leased, not popped: `claim` marks the
oldest queued submission `running`, counts the attempt and writes a lease row
with a fresh token and an expiry. Only the holder of that token can finish,
retry or hand back the job (`finish`, `retry`, `release`); a reply that comes
with an old token (a lease that expired meanwhile) changes nothing. A lease that
is not renewed, or that a previous run of the service held (`recover`), sends
its job back to the queue, or to `failed` once it has had its attempts. Each of
these is one transaction, so a submission ends with exactly one report.
Finished submissions are deleted after the retention period (`prune`), or all of
one key's at once (`purge_key`), with `secure_delete` on so their content is
overwritten, not left in the file's free pages.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    name TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,          -- sha256 of the key: the key itself is never stored
    webhook_secret TEXT NOT NULL,
    rate_per_minute REAL,                   -- NULL: the service's default
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS submissions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    key_name TEXT NOT NULL,
    external_id TEXT,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL,                   -- queued | running | done | failed | cancelled
    exercises TEXT,                         -- JSON list, NULL: all
    seed INTEGER,
    metadata TEXT NOT NULL,
    received_at REAL NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    graded_at REAL,
    finished_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    score REAL,
    max_score REAL,
    report TEXT,
    error TEXT,
    callback_url TEXT,
    callback_state TEXT,                    -- pending | delivered | failed
    callback_attempts INTEGER NOT NULL DEFAULT 0,
    callback_next REAL,
    callback_error TEXT,
    callback_at REAL,
    UNIQUE (key_name, external_id)
);
CREATE INDEX IF NOT EXISTS submissions_status ON submissions (status, seq);
CREATE INDEX IF NOT EXISTS submissions_key ON submissions (key_name, seq);
CREATE INDEX IF NOT EXISTS submissions_callback ON submissions (callback_state, callback_next);
CREATE TABLE IF NOT EXISTS payloads (       -- what was submitted, as sent: stored with the row, in one commit
    submission_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                     -- files (JSON of path -> source) | zip | ipynb
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    submission_id TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    holder TEXT NOT NULL,
    claimed_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
"""

TERMINAL = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class Claim:
    id: str
    token: str
    exercises: list[int] | None
    seed: int | None
    attempts: int


class Conflict(Exception):
    """A repeated external_id with other content."""


class Store:
    """The database, one connection per thread.

    `synchronous="FULL"` (the web process's requests) makes a commit reach the disk
    before it returns: a 201 is never sent for a submission a power cut could lose.
    The dispatcher's and the callback sender's store use `NORMAL`: their commits
    survive any crash of the process (kill -9), and a lease lost to a power cut
    only sends its job back to the queue.
    """

    def __init__(self, path: Path, synchronous: str = "FULL"):
        self.path = path
        self.synchronous = synchronous
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db().executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={self.synchronous}")
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA secure_delete=ON")  # what is pruned or purged is overwritten, not left in free pages
            self._local.db = db
        return db

    class _Tx:
        def __init__(self, db: sqlite3.Connection):
            self.db = db

        def __enter__(self) -> sqlite3.Connection:
            self.db.execute("BEGIN IMMEDIATE")
            return self.db

        def __exit__(self, kind, *exc) -> None:
            self.db.execute("COMMIT" if kind is None else "ROLLBACK")

    def _write(self) -> _Tx:
        return Store._Tx(self._db())

    def one(self, sql: str, args: tuple = ()) -> sqlite3.Row | None:
        return self._db().execute(sql, args).fetchone()

    def all(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        return self._db().execute(sql, args).fetchall()

    # ------------------------------------------------------------ keys

    def add_key(self, name: str, key_hash: str, secret: str, rate: float | None) -> None:
        with self._write() as db:
            db.execute("INSERT INTO keys (name, key_hash, webhook_secret, rate_per_minute, created_at) "
                       "VALUES (?, ?, ?, ?, ?)", (name, key_hash, secret, rate, time.time()))

    def revoke_key(self, name: str) -> bool:
        with self._write() as db:
            return db.execute("UPDATE keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                              (time.time(), name)).rowcount == 1

    def key_by_hash(self, key_hash: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM keys WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,))

    # ------------------------------------------------------------ submissions

    def create(self, row: dict[str, Any], payload: tuple[str, bytes]) -> tuple[sqlite3.Row, bool]:
        """Insert a submission and its payload; (row, True), or (the existing row, False) for a repeated external_id.

        Conflict when the repeated external_id came with other content.
        """
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._write() as db:
            if row.get("external_id") is not None:
                old = db.execute("SELECT * FROM submissions WHERE key_name = ? AND external_id = ?",
                                 (row["key_name"], row["external_id"])).fetchone()
                if old is not None:
                    if old["request_hash"] != row["request_hash"]:
                        raise Conflict(old["id"])
                    return old, False
            db.execute(f"INSERT INTO submissions ({columns}) VALUES ({marks})", tuple(row.values()))
            db.execute("INSERT INTO payloads (submission_id, kind, data) VALUES (?, ?, ?)", (row["id"], *payload))
            return db.execute("SELECT * FROM submissions WHERE id = ?", (row["id"],)).fetchone(), True

    def get(self, sid: str, key_name: str | None = None) -> sqlite3.Row | None:
        if key_name is None:
            return self.one("SELECT * FROM submissions WHERE id = ?", (sid,))
        return self.one("SELECT * FROM submissions WHERE id = ? AND key_name = ?", (sid, key_name))

    def by_external_id(self, key_name: str, external_id: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM submissions WHERE key_name = ? AND external_id = ?", (key_name, external_id))

    def list(self, key_name: str, external_id: str | None, status: str | None, limit: int) -> list[sqlite3.Row]:
        sql, args = "SELECT * FROM submissions WHERE key_name = ?", [key_name]
        if external_id is not None:
            sql, args = sql + " AND external_id = ?", [*args, external_id]
        if status is not None:
            sql, args = sql + " AND status = ?", [*args, status]
        return self.all(sql + " ORDER BY seq DESC LIMIT ?", (*args, limit))

    def cancel(self, sid: str, key_name: str) -> tuple[bool, str | None]:
        """Cancel a queued submission: (whether it was cancelled now, its status afterwards; None: unknown)."""
        with self._write() as db:
            changed = db.execute("UPDATE submissions SET status = 'cancelled', finished_at = ? "
                       "WHERE id = ? AND key_name = ? AND status = 'queued'", (time.time(), sid, key_name)).rowcount == 1
            row = db.execute("SELECT status FROM submissions WHERE id = ? AND key_name = ?", (sid, key_name)).fetchone()
        return changed, (row["status"] if row else None)

    def counts(self) -> dict[str, int]:
        rows = self.all("SELECT status, COUNT(*) AS n FROM submissions WHERE status IN ('queued', 'running') "
                        "GROUP BY status")
        found = {r["status"]: r["n"] for r in rows}
        return {"queued": found.get("queued", 0), "running": found.get("running", 0)}

    def payload(self, sid: str) -> tuple[str, bytes]:
        row = self.one("SELECT kind, data FROM payloads WHERE submission_id = ?", (sid,))
        return row["kind"], bytes(row["data"])

    # ------------------------------------------------------------ leases

    def claim(self, holder: str, lease_s: float) -> Claim | None:
        """Lease the oldest queued submission: it becomes `running`, one more attempt."""
        now = time.time()
        token = uuid.uuid4().hex
        with self._write() as db:
            row = db.execute("SELECT * FROM submissions WHERE status = 'queued' ORDER BY seq LIMIT 1").fetchone()
            if row is None:
                return None
            db.execute("UPDATE submissions SET status = 'running', attempts = attempts + 1, started_at = ? "
                       "WHERE id = ?", (now, row["id"]))
            db.execute("INSERT OR REPLACE INTO leases (submission_id, token, holder, claimed_at, expires_at) "
                       "VALUES (?, ?, ?, ?, ?)", (row["id"], token, holder, now, now + lease_s))
        exercises = json.loads(row["exercises"]) if row["exercises"] else None
        return Claim(row["id"], token, exercises, row["seed"], row["attempts"] + 1)

    def renew(self, tokens: list[str], lease_s: float) -> None:
        if not tokens:
            return
        with self._write() as db:
            db.executemany("UPDATE leases SET expires_at = ? WHERE token = ?",
                           [(time.time() + lease_s, t) for t in tokens])

    @staticmethod
    def _held(db: sqlite3.Connection, sid: str, token: str) -> bool:
        held = db.execute("SELECT 1 FROM leases WHERE submission_id = ? AND token = ?", (sid, token)).fetchone()
        if held:
            db.execute("DELETE FROM leases WHERE submission_id = ?", (sid,))
        return held is not None

    def finish(self, sid: str, token: str, report: dict) -> bool:
        """Record the report of a leased job: `done`. False (nothing changed) when the lease is not held."""
        now = time.time()
        with self._write() as db:
            if not self._held(db, sid, token):
                return False
            db.execute("UPDATE submissions SET status = 'done', score = ?, max_score = ?, report = ?, "
                       "graded_at = ?, finished_at = ?, callback_state = CASE WHEN callback_url IS NULL "
                       "THEN NULL ELSE 'pending' END, callback_next = ? WHERE id = ?",
                       (report["score"], report["max_score"], json.dumps(report), now, now, now, sid))
        return True

    def retry(self, sid: str, token: str, code: str, message: str, max_attempts: int) -> str | None:
        """A leased job that could not be graded: back to the queue, or `failed` after its attempts.

        The status it ends in; None when the lease is not held (nothing changed).
        """
        with self._write() as db:
            if not self._held(db, sid, token):
                return None
            return self._requeue(db, sid, code, message, max_attempts)

    @staticmethod
    def _requeue(db: sqlite3.Connection, sid: str, code: str, message: str, max_attempts: int) -> str:
        row = db.execute("SELECT attempts FROM submissions WHERE id = ?", (sid,)).fetchone()
        if row["attempts"] < max_attempts:
            db.execute("UPDATE submissions SET status = 'queued', error = ? WHERE id = ?",
                       (json.dumps({"code": code, "message": message}), sid))
            return "queued"
        now = time.time()
        error = {"code": code, "message": f"{message} (after {row['attempts']} attempts)"}
        db.execute("UPDATE submissions SET status = 'failed', error = ?, finished_at = ?, "
                   "callback_state = CASE WHEN callback_url IS NULL THEN NULL ELSE 'pending' END, "
                   "callback_next = ? WHERE id = ?", (json.dumps(error), now, now, sid))
        return "failed"

    def release(self, sid: str, token: str) -> bool:
        """Hand a leased job back unfinished (the service is stopping): queued, the attempt not counted."""
        with self._write() as db:
            if not self._held(db, sid, token):
                return False
            db.execute("UPDATE submissions SET status = 'queued', attempts = attempts - 1 WHERE id = ?", (sid,))
        return True

    def recover(self, holder: str, max_attempts: int, expired_only: bool = True) -> list[tuple[str, str]]:
        """Return to the queue every job whose lease is not held: expired, or (at start) not `holder`'s.

        A job with no lease at all that says `running` is taken back too. [(id, new status)].
        """
        now = time.time()
        changed = []
        with self._write() as db:
            cond, args = ("expires_at < ?", (now,)) if expired_only else ("holder != ? OR expires_at < ?", (holder, now))
            for lease in db.execute(f"SELECT submission_id FROM leases WHERE {cond}", args).fetchall():
                sid = lease["submission_id"]
                db.execute("DELETE FROM leases WHERE submission_id = ?", (sid,))
                changed.append((sid, self._requeue(db, sid, "lease_lost",
                                                   "the grading of this submission was interrupted", max_attempts)))
            for row in db.execute("SELECT id FROM submissions WHERE status = 'running' AND id NOT IN "
                                  "(SELECT submission_id FROM leases)").fetchall():
                changed.append((row["id"], self._requeue(db, row["id"], "lease_lost",
                                                         "the grading of this submission was interrupted", max_attempts)))
        return changed

    def leases_held(self, holder: str) -> list[tuple[str, str]]:
        """[(submission id, token)] of the leases `holder` holds (a broker's jobs outlive the service's run)."""
        return [(r["submission_id"], r["token"]) for r in
                self.all("SELECT submission_id, token FROM leases WHERE holder = ? ORDER BY claimed_at", (holder,))]

    def count_attempts(self, sid: str, token: str, attempts: int) -> None:
        """A broker worker says the job had `attempts` deliveries in all: count them (while the lease is held)."""
        with self._write() as db:
            db.execute("UPDATE submissions SET attempts = MAX(attempts, ?) WHERE id = ? AND EXISTS "
                       "(SELECT 1 FROM leases WHERE submission_id = ? AND token = ?)", (attempts, sid, sid, token))

    # ------------------------------------------------------------ retention

    def prune(self, before: float, batch: int = 500) -> int:
        """Delete up to `batch` finished submissions (and their payloads) that ended before `before`.

        Never a queued or running one, nor one whose callback is still to be sent. How many were deleted.
        """
        with self._write() as db:
            ids = [r["id"] for r in db.execute(
                "SELECT id FROM submissions WHERE status IN ('done', 'failed', 'cancelled') AND finished_at < ? "
                "AND (callback_state IS NULL OR callback_state != 'pending') ORDER BY seq LIMIT ?", (before, batch))]
            self._delete(db, ids)
        return len(ids)

    def purge_key(self, key_name: str) -> int:
        """Delete every submission of a key, whatever its status, with its payload and lease. How many."""
        with self._write() as db:
            ids = [r["id"] for r in db.execute("SELECT id FROM submissions WHERE key_name = ?", (key_name,))]
            self._delete(db, ids)
        # The write-ahead log may still hold the deleted pages: write them into the database and empty it.
        self._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(ids)

    @staticmethod
    def _delete(db: sqlite3.Connection, ids: list[str]) -> None:
        for table, column in (("payloads", "submission_id"), ("leases", "submission_id"), ("submissions", "id")):
            db.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(sid,) for sid in ids])

    # ------------------------------------------------------------ callbacks

    def due_callbacks(self, now: float, limit: int) -> list[sqlite3.Row]:
        return self.all("SELECT * FROM submissions WHERE callback_state = 'pending' AND callback_next <= ? "
                        "ORDER BY callback_next LIMIT ?", (now, limit))

    def next_callback_at(self) -> float | None:
        row = self.one("SELECT MIN(callback_next) AS t FROM submissions WHERE callback_state = 'pending'")
        return row["t"] if row else None

    def callback_tried(self, sid: str, state: str, attempts: int, next_at: float | None, error: str | None) -> None:
        with self._write() as db:
            db.execute("UPDATE submissions SET callback_state = ?, callback_attempts = ?, callback_next = ?, "
                       "callback_error = ?, callback_at = ? WHERE id = ?",
                       (state, attempts, next_at, error, time.time(), sid))

    def webhook_secret(self, key_name: str) -> str | None:
        row = self.one("SELECT webhook_secret FROM keys WHERE name = ?", (key_name,))
        return row["webhook_secret"] if row else None
