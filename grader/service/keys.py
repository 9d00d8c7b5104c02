"""API keys: random, shown once, stored as their sha256, compared in constant time.

A key's webhook secret signs the callbacks of its submissions, so the receiver can
check them; it is stored as given (the service needs it to sign) and shown once too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass

from grader.service.store import Store

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class KeyError_(Exception):
    """A key that cannot be made or changed; the message says why."""


@dataclass(frozen=True)
class NewKey:
    name: str
    key: str
    webhook_secret: str


@dataclass(frozen=True)
class Caller:
    name: str
    rate_per_minute: float | None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(store: Store, name: str, rate_per_minute: float | None = None) -> NewKey:
    if not NAME.match(name):
        raise KeyError_(f"'{name}' is not a usable key name: letters, digits, '.', '_' and '-', at most 64")
    key = "gk_" + secrets.token_urlsafe(32)
    secret = "whsec_" + secrets.token_urlsafe(32)
    try:
        store.add_key(name, digest(key), secret, rate_per_minute)
    except sqlite3.IntegrityError:
        raise KeyError_(f"a key named '{name}' exists already; revoke it or choose another name") from None
    return NewKey(name, key, secret)


def listing(store: Store) -> list[dict]:
    """Every key without its secrets: name, created, revoked, its own rate limit, its submissions."""
    rows = store.all("SELECT k.name, k.created_at, k.revoked_at, k.rate_per_minute, "
                     "(SELECT COUNT(*) FROM submissions s WHERE s.key_name = k.name) AS submissions "
                     "FROM keys k ORDER BY k.created_at")
    return [dict(r) for r in rows]


def revoke(store: Store, name: str) -> None:
    if not store.revoke_key(name):
        raise KeyError_(f"no active key named '{name}'")


def exists(store: Store, name: str) -> bool:
    return store.one("SELECT 1 FROM keys WHERE name = ?", (name,)) is not None


def purge(store: Store, name: str) -> int:
    """Delete every submission of the key `name` (its files, reports, metadata); how many."""
    return store.purge_key(name)


def authenticate(store: Store, presented: str) -> Caller | None:
    """The caller a presented key belongs to, or None."""
    if not presented or len(presented) > 200:
        return None
    wanted = digest(presented)
    row = store.key_by_hash(wanted)
    # The lookup is by a hash of a random key; the comparison of the stored hash is constant-time too.
    if row is None or not hmac.compare_digest(row["key_hash"], wanted):
        return None
    return Caller(row["name"], row["rate_per_minute"])
