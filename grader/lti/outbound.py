"""Outbound calls to a platform (its keys, its token endpoint, its scores, dynamic registration).

The host is resolved, checked and pinned by the service's one way of calling out
(`grader.service.callbacks.pin`): every address must be public unless the service allows
private ones (`--allow-private-callbacks`, for an LMS on the same network, and tests), and
the checked address is the one connected to; the Host header and the TLS name stay the URL's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from grader.service import callbacks

TIMEOUT_S = 10.0


class PlatformUnreachable(Exception):
    """A platform URL the tool will not call, or a call that did not get an answer."""


def request(client: httpx.Client, method: str, url: str, allow_private: bool, **kw) -> httpx.Response:
    try:
        pinned, headers, extensions = callbacks.pin(url, allow_private)
    except callbacks.CallbackRefused as e:
        raise PlatformUnreachable(str(e).replace("callback", "platform")) from None
    headers |= {**kw.pop("headers", {}), "User-Agent": "tinyml-grader-lti"}
    try:
        return client.request(method, pinned, headers=headers, extensions=extensions,
                              timeout=kw.pop("timeout", TIMEOUT_S), **kw)
    except httpx.HTTPError as e:
        raise PlatformUnreachable(f"could not reach {urlsplit(url).netloc}: {e.__class__.__name__}: {e}") from None


def get_json(url: str, allow_private: bool, **kw) -> dict:
    with httpx.Client() as client:
        r = request(client, "GET", url, allow_private, **kw)
    if r.status_code != 200:
        raise PlatformUnreachable(f"{url} answered {r.status_code}")
    try:
        doc = r.json()
    except ValueError:
        raise PlatformUnreachable(f"{url} did not answer JSON") from None
    if not isinstance(doc, dict):
        raise PlatformUnreachable(f"{url} did not answer a JSON object")
    return doc
