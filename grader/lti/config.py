"""The tool's public address, as `--public-url` gives it."""

from __future__ import annotations

from urllib.parse import urlsplit

LOCAL = ("127.0.0.1", "localhost", "::1")


def check_public_url(url: str) -> str:
    """The URL without a trailing slash; ValueError saying what to give instead."""
    try:
        parts = urlsplit(url.strip())
        parts.port
    except ValueError:
        raise ValueError(f"'{url}' is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{url}' is not an http(s) URL such as https://grader.example.edu")
    if parts.scheme == "http" and parts.hostname not in LOCAL:
        raise ValueError("LMSs and browsers need https; http is only for 127.0.0.1 and localhost")
    if parts.query or parts.fragment or parts.username:
        raise ValueError("give the address alone, without query, fragment or credentials")
    return url.strip().rstrip("/")


def endpoints(public_url: str) -> dict:
    return {"login": f"{public_url}/lti/login", "launch": f"{public_url}/lti/launch",
            "jwks": f"{public_url}/lti/jwks", "register": f"{public_url}/lti/register"}
