"""The LTI tables, in the service's own database (one store, one writer: the web process).

Platforms and their deployments; OIDC states and used nonces (in the database, so two web
workers or a restart between login and launch see them); sessions; the links deep linking
placed and the launches seen on them; which submission came from which launch; and the
score outbox. A score row is made from a `done` submission (`enqueue`): at once when the
dispatcher reports it, and at start for any the previous run did not get to (a kill -9
between grading and posting), so every graded LTI submission gets exactly one row.
"""

from __future__ import annotations

import json
import secrets
import time

from grader.service.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS lti_platforms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    deployment_ids TEXT NOT NULL,           -- JSON list
    auth_url TEXT NOT NULL,
    token_url TEXT NOT NULL,
    jwks_url TEXT NOT NULL,
    jwks TEXT,                              -- the platform's keys as last fetched (JSON)
    jwks_at REAL,
    name TEXT,
    created_at REAL NOT NULL,
    UNIQUE (issuer, client_id)
);
CREATE TABLE IF NOT EXISTS lti_states (     -- OIDC login -> launch; used once
    state TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    platform_id INTEGER NOT NULL,
    storage_target TEXT,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS lti_nonces (
    platform_id INTEGER NOT NULL,
    nonce TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (platform_id, nonce)
);
CREATE TABLE IF NOT EXISTS lti_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    deployment_id TEXT NOT NULL,
    resource_link_id TEXT NOT NULL,
    exercise TEXT NOT NULL,                 -- "1".."5" or "all"
    title TEXT,
    lineitem TEXT,                          -- the AGS line item URL of the link (given, or found/made by the tool)
    lineitems TEXT,                         -- the context's line items URL (to find or make one when none is given)
    context_title TEXT,
    UNIQUE (platform_id, deployment_id, resource_link_id)
);
CREATE TABLE IF NOT EXISTS lti_sessions (
    id TEXT PRIMARY KEY,                    -- random; the cookie (or the platform storage) holds it
    platform_id INTEGER NOT NULL,
    kind TEXT NOT NULL,                     -- deeplink | student | instructor
    link_id INTEGER,
    user_sub TEXT NOT NULL,
    user_name TEXT,
    claims TEXT NOT NULL,                   -- what the pages need from the launch (JSON)
    storage_target TEXT,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS lti_submissions (
    submission_id TEXT PRIMARY KEY,
    link_id INTEGER NOT NULL,
    user_sub TEXT NOT NULL,
    user_name TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS lti_submissions_link ON lti_submissions (link_id, user_sub);
CREATE TABLE IF NOT EXISTS lti_scores (     -- the outbox: one row per graded submission
    submission_id TEXT PRIMARY KEY,
    link_id INTEGER NOT NULL,
    state TEXT NOT NULL,                    -- pending | sent | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    error TEXT,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS lti_scores_due ON lti_scores (state, next_at);
"""


class LtiStore:
    """The LTI rows over a service `Store` (its connection per thread and its transactions)."""

    def __init__(self, store: Store):
        self.store = store
        store._db().executescript(SCHEMA)

    def _write(self):
        return self.store._write()

    # ------------------------------------------------------------ platforms

    def add_platform(self, issuer: str, client_id: str, deployment_ids: list[str], auth_url: str, token_url: str,
                     jwks_url: str, name: str | None = None) -> int:
        """Insert, or update the URLs of and add deployments to, the platform (issuer, client_id)."""
        with self._write() as db:
            old = db.execute("SELECT * FROM lti_platforms WHERE issuer = ? AND client_id = ?",
                             (issuer, client_id)).fetchone()
            if old is None:
                return db.execute("INSERT INTO lti_platforms (issuer, client_id, deployment_ids, auth_url, token_url, "
                                  "jwks_url, name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                  (issuer, client_id, json.dumps(deployment_ids), auth_url, token_url, jwks_url, name,
                                   time.time())).lastrowid
            ids = list(dict.fromkeys(json.loads(old["deployment_ids"]) + deployment_ids))
            db.execute("UPDATE lti_platforms SET deployment_ids = ?, auth_url = ?, token_url = ?, jwks_url = ?, "
                       "jwks = NULL, name = COALESCE(?, name) WHERE id = ?",
                       (json.dumps(ids), auth_url, token_url, jwks_url, name, old["id"]))
            return old["id"]

    def platforms(self) -> list[dict]:
        rows = self.store.all("SELECT * FROM lti_platforms ORDER BY id")
        return [{**dict(r), "deployment_ids": json.loads(r["deployment_ids"])} for r in rows]

    def platform(self, pid: int) -> dict | None:
        return next((p for p in self.platforms() if p["id"] == pid), None)

    def find_platform(self, issuer: str, client_id: str | None) -> list[dict]:
        return [p for p in self.platforms() if p["issuer"] == issuer and client_id in (None, p["client_id"])]

    def remove_platform(self, issuer: str, client_id: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM lti_platforms WHERE issuer = ? AND client_id = ?",
                              (issuer, client_id)).rowcount == 1

    def keep_jwks(self, pid: int, jwks: dict) -> None:
        with self._write() as db:
            db.execute("UPDATE lti_platforms SET jwks = ?, jwks_at = ? WHERE id = ?", (json.dumps(jwks), time.time(), pid))

    # ------------------------------------------------------------ states and nonces

    def new_state(self, platform_id: int, storage_target: str | None, ttl: float = 600) -> tuple[str, str]:
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM lti_states WHERE expires_at < ?", (now,))
            db.execute("DELETE FROM lti_nonces WHERE expires_at < ?", (now,))
            db.execute("INSERT INTO lti_states VALUES (?, ?, ?, ?, ?)", (state, nonce, platform_id, storage_target,
                                                                         now + ttl))
        return state, nonce

    def take_state(self, state: str) -> dict | None:
        """The login's state row, deleted: a state is good for one launch."""
        with self._write() as db:
            row = db.execute("SELECT * FROM lti_states WHERE state = ? AND expires_at >= ?",
                             (state, time.time())).fetchone()
            db.execute("DELETE FROM lti_states WHERE state = ?", (state,))
        return dict(row) if row else None

    def use_nonce(self, platform_id: int, nonce: str, expires_at: float) -> bool:
        """False when the nonce was used already (a replayed launch)."""
        with self._write() as db:
            return db.execute("INSERT OR IGNORE INTO lti_nonces VALUES (?, ?, ?)",
                              (platform_id, nonce, max(expires_at, time.time()) + 600)).rowcount == 1

    # ------------------------------------------------------------ links and sessions

    def link(self, platform_id: int, deployment_id: str, resource_link_id: str, exercise: str, title: str | None,
             lineitem: str | None, context_title: str | None, lineitems: str | None = None) -> dict:
        with self._write() as db:
            db.execute("INSERT INTO lti_links (platform_id, deployment_id, resource_link_id, exercise, title, lineitem, "
                       "context_title, lineitems) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform_id, "
                       "deployment_id, resource_link_id) DO UPDATE SET exercise = excluded.exercise, "
                       "title = excluded.title, lineitem = COALESCE(excluded.lineitem, lineitem), "
                       "context_title = excluded.context_title, lineitems = excluded.lineitems",
                       (platform_id, deployment_id, resource_link_id, exercise, title, lineitem, context_title,
                        lineitems))
            row = db.execute("SELECT * FROM lti_links WHERE platform_id = ? AND deployment_id = ? AND "
                             "resource_link_id = ?", (platform_id, deployment_id, resource_link_id)).fetchone()
        return dict(row)

    def set_lineitem(self, link_id: int, lineitem: str) -> None:
        with self._write() as db:
            db.execute("UPDATE lti_links SET lineitem = ? WHERE id = ?", (lineitem, link_id))

    def get_link(self, link_id: int) -> dict | None:
        row = self.store.one("SELECT * FROM lti_links WHERE id = ?", (link_id,))
        return dict(row) if row else None

    def new_session(self, platform_id: int, kind: str, link_id: int | None, sub: str, name: str | None, claims: dict,
                    storage_target: str | None, ttl: float = 8 * 3600) -> str:
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM lti_sessions WHERE expires_at < ?", (now,))
            db.execute("INSERT INTO lti_sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (sid, platform_id, kind, link_id, sub, name, json.dumps(claims), storage_target, now, now + ttl))
        return sid

    def session(self, sid: str | None) -> dict | None:
        if not sid:
            return None
        row = self.store.one("SELECT * FROM lti_sessions WHERE id = ? AND expires_at >= ?", (sid, time.time()))
        return {**dict(row), "claims": json.loads(row["claims"])} if row else None

    # ------------------------------------------------------------ submissions and scores

    def add_submission(self, submission_id: str, link_id: int, sub: str, name: str | None) -> None:
        with self._write() as db:
            db.execute("INSERT INTO lti_submissions VALUES (?, ?, ?, ?, ?)", (submission_id, link_id, sub, name,
                                                                              time.time()))

    def attempts(self, link_id: int, sub: str | None = None) -> list[dict]:
        """The link's submissions (one student's, or everybody's), newest first, with their score's state."""
        sql = ("SELECT l.submission_id, l.user_sub, l.user_name, l.created_at, s.status, s.score, s.max_score, "
               "s.graded_at, s.report, o.state AS score_state, o.error AS score_error, o.attempts AS score_attempts, "
               "o.sent_at FROM lti_submissions l JOIN submissions s ON s.id = l.submission_id "
               "LEFT JOIN lti_scores o ON o.submission_id = l.submission_id WHERE l.link_id = ?")
        args: tuple = (link_id,)
        if sub is not None:
            sql, args = sql + " AND l.user_sub = ?", (link_id, sub)
        return [dict(r) for r in self.store.all(sql + " ORDER BY s.seq DESC", args)]

    def submission_link(self, submission_id: str) -> dict | None:
        row = self.store.one("SELECT * FROM lti_submissions WHERE submission_id = ?", (submission_id,))
        return dict(row) if row else None

    def enqueue(self, submission_id: str | None = None) -> int:
        """Outbox rows for graded LTI submissions that have none (one, or all: at start). How many were made."""
        sql = ("INSERT OR IGNORE INTO lti_scores (submission_id, link_id, state, next_at) "
               "SELECT l.submission_id, l.link_id, 'pending', ? FROM lti_submissions l "
               "JOIN submissions s ON s.id = l.submission_id WHERE s.status = 'done'")
        args: tuple = (time.time(),)
        if submission_id is not None:
            sql, args = sql + " AND l.submission_id = ?", (*args, submission_id)
        else:
            sql += " AND l.submission_id NOT IN (SELECT submission_id FROM lti_scores)"
        with self._write() as db:
            return db.execute(sql, args).rowcount

    def due_scores(self, now: float, limit: int = 20) -> list[dict]:
        return [dict(r) for r in self.store.all("SELECT * FROM lti_scores WHERE state = 'pending' AND next_at <= ? "
                                                "ORDER BY next_at LIMIT ?", (now, limit))]

    def next_score_at(self) -> float | None:
        row = self.store.one("SELECT MIN(next_at) AS t FROM lti_scores WHERE state = 'pending'")
        return row["t"] if row else None

    def score_tried(self, submission_id: str, state: str, attempts: int, next_at: float, error: str | None) -> None:
        with self._write() as db:
            db.execute("UPDATE lti_scores SET state = ?, attempts = ?, next_at = ?, error = ?, sent_at = ? "
                       "WHERE submission_id = ?", (state, attempts, next_at, error,
                                                   time.time() if state == "sent" else None, submission_id))

    def resend(self, submission_id: str, link_id: int) -> bool:
        """A failed score back to pending (the instructor's button)."""
        with self._write() as db:
            return db.execute("UPDATE lti_scores SET state = 'pending', next_at = ?, error = NULL WHERE "
                              "submission_id = ? AND link_id = ? AND state = 'failed'",
                              (time.time(), submission_id, link_id)).rowcount == 1
