"""Callbacks: the web process POSTs a finished submission object to its `callback_url`.

Signed with the key's webhook secret (`X-Grader-Signature: sha256=<hex HMAC-SHA256
of the body>`), retried on the configured schedule, the state kept on the
submission (pending -> delivered | failed), so a restart goes on where it stopped.
Grading never waits for a receiver: a pool of sender threads works from the
database. A URL whose host resolves to a loopback, private, link-local or other
non-public address is refused (server-side request forgery), unless the service
allows private callbacks. The host is resolved once per try, checked, and that
very address is connected to (the Host header and TLS name stay the URL's).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import httpx

from grader.service.logs import event


class CallbackRefused(Exception):
    """A callback URL the service will not call; the message says why."""


def signature(secret: str, payload: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL; CallbackRefused otherwise. Does not resolve."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise CallbackRefused(f"'{url}' is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise CallbackRefused("a callback_url must be http or https")
    if not parts.hostname:
        raise CallbackRefused("a callback_url needs a host")
    if parts.username or parts.password:
        raise CallbackRefused("a callback_url must not hold credentials")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(host: str, port: int, allow_private: bool) -> str:
    """One address of `host`, checked: every address it resolves to must be public unless allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise CallbackRefused(f"the callback host '{host}' does not resolve ({e})") from None
    addresses = [info[4][0] for info in infos]
    if not allow_private:
        bad = [a for a in addresses if not _public(a)]
        if bad:
            raise CallbackRefused(f"the callback host '{host}' resolves to a non-public address ({bad[0]}); "
                                  "callbacks go to public addresses only")
    return addresses[0]


def pin(url: str, allow_private: bool) -> tuple[str, dict[str, str], dict]:
    """How to call `url` at the one address checked for it: (URL with that address, headers, httpx extensions).

    The Host header and the TLS name stay the URL's. Raises CallbackRefused for a URL or
    an address the service does not call. Every outbound call of the service comes through
    here: callbacks, and the LTI tool's calls to platforms (`grader.lti.outbound`).
    """
    scheme, host, port = check_url(url)
    address = resolve(host, port, allow_private)
    parts = urlsplit(url)
    shown = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((scheme, f"{shown}:{port}", parts.path or "/", parts.query, ""))
    return pinned, {"Host": parts.netloc.rpartition("@")[2]}, ({"sni_hostname": host} if scheme == "https" else {})


def post(url: str, payload: bytes, secret: str, allow_private: bool, timeout: float) -> int:
    """POST once; the status code. CallbackRefused or httpx.HTTPError when it could not be sent."""
    pinned, headers, extensions = pin(url, allow_private)
    headers |= {"Content-Type": "application/json", "User-Agent": "tinyml-grader-callback",
                "X-Grader-Signature": signature(secret, payload)}
    with httpx.Client(timeout=timeout) as client:
        # Streamed and never read: a receiver's answer is its status, whatever body it sends.
        with client.stream("POST", pinned, content=payload, headers=headers, extensions=extensions) as response:
            return response.status_code


class Sender:
    """Sends due callbacks from the database, a few at a time, until stopped."""

    def __init__(self, store, render: Callable, delays: tuple[float, ...], allow_private: bool, timeout: float,
                 metrics=None, threads: int = 4):
        self.store, self.render, self.delays = store, render, delays
        self.allow_private, self.timeout, self.metrics = allow_private, timeout, metrics
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="callback")
        self._inflight: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="callbacks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stopping:
            try:
                for row in self.store.due_callbacks(time.time(), 50):
                    with self._lock:
                        if row["id"] in self._inflight:
                            continue
                        self._inflight.add(row["id"])
                    self._pool.submit(self._try, row["id"])
                next_at = self.store.next_callback_at()
            except Exception as e:  # the database is busy or gone: try again shortly
                event("callback_loop_error", error=str(e))
                next_at = None
            wait = 1.0 if next_at is None else min(1.0, max(0.02, next_at - time.time()))
            self._wake.wait(wait)
            self._wake.clear()

    def _try(self, sid: str) -> None:
        try:
            row = self.store.get(sid)
            if row is None or row["callback_state"] != "pending":
                return
            tries = row["callback_attempts"] + 1
            obj = self.render(row)
            obj["callback"]["attempts"] = tries
            payload = json.dumps(obj).encode()
            secret = self.store.webhook_secret(row["key_name"]) or ""
            error = None
            try:
                status = post(row["callback_url"], payload, secret, self.allow_private, self.timeout)
                if not 200 <= status < 300:
                    error = f"the receiver answered {status}"
            except CallbackRefused as e:
                error = str(e)
            except httpx.HTTPError as e:
                error = f"could not reach the receiver: {e}"
            if error is None:
                self.store.callback_tried(sid, "delivered", tries, None, None)
            elif tries >= len(self.delays):
                self.store.callback_tried(sid, "failed", tries, None, error)
            else:
                self.store.callback_tried(sid, "pending", tries, time.time() + self.delays[tries], error)
            outcome = "delivered" if error is None else ("failed" if tries >= len(self.delays) else "retry")
            if self.metrics is not None:
                self.metrics.callbacks.labels(outcome).inc()
            event("callback", id=sid, attempt=tries, outcome=outcome, error=error)
        except Exception as e:
            event("callback_error", id=sid, error=repr(e))
        finally:
            with self._lock:
                self._inflight.discard(sid)
            self._wake.set()
