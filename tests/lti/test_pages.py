"""The LTI routes in this process (the app without its lifespan: nothing is graded): cookies, frames, CLI errors."""

from __future__ import annotations

import json

import pytest

from grader.lti.config import check_public_url
from tests.lti.conftest import grade
from tests.service.conftest import AsgiClient


def _app(tmp_path, public_url: str):
    from grader.service.app import create_app
    from grader.service.config import Config
    from grader.service.service import Service

    config = Config(data=tmp_path / "data", workers=1, public_url=public_url)
    service = Service(config)
    app = create_app(config, service)
    from grader.lti.store import LtiStore

    LtiStore(service.store).add_platform("https://lms.example", "c1", ["d1"], "https://lms.example/auth",
                                         "https://lms.example/token", "https://lms.example/jwks")
    return AsgiClient(app)


@pytest.mark.parametrize("public_url, secure", [("https://tool.example", True), ("http://127.0.0.1:18799", False)])
def test_cookies_are_samesite_none_and_secure_over_https_plain_over_http(tmp_path, public_url, secure):
    client = _app(tmp_path, public_url)
    r = client.get("/lti/login", params={"iss": "https://lms.example", "login_hint": "u", "client_id": "c1",
                                         "target_link_uri": f"{public_url}/lti/launch"})
    assert r.status_code == 302 and r.headers["location"].startswith("https://lms.example/auth?")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert ("samesite=none" in cookie and "secure" in cookie) if secure else ("samesite" not in cookie
                                                                              and "secure" not in cookie)


def test_pages_may_be_framed_by_the_platform_only(tmp_path):
    client = _app(tmp_path, "https://tool.example")
    r = client.get("/lti/login", params={"iss": "https://unknown.example", "login_hint": "u"})
    assert r.status_code == 400 and "not registered" in r.text
    assert r.headers["content-security-policy"] == "frame-ancestors 'self' https://lms.example"
    assert client.get("/lti/page").status_code == 401  # no session: no page
    assert client.post("/lti/submit", data={"source": "x"}).status_code == 401


def test_open_in_a_new_window_moves_the_session_to_a_first_party_cookie(tmp_path):
    import time

    client = _app(tmp_path, "https://tool.example")
    tool = client.app.state.lti
    pid = tool.lti.platforms()[0]["id"]
    link = tool.lti.link(pid, "d1", "rl", "1", "Exercise 1", None, "Course")
    sid = tool.lti.new_session(pid, "student", link["id"], "u1", "Ada", {"context": "Course"}, None)
    code = tool.keys.sign({"sid": sid, "aud": "open", "exp": int(time.time()) + 60})
    moved = client.get("/lti/open", params={"code": code})
    assert moved.status_code == 303 and moved.headers["location"] == "https://tool.example/lti/page"
    assert f"lti_session={sid}" in moved.headers["set-cookie"]
    page = client.get("/lti/page", headers={"Cookie": f"lti_session={sid}"})
    assert page.status_code == 200 and "Submit for grading" in page.text
    assert client.get("/lti/open", params={"code": code + "x"}).status_code == 403
    stale = tool.keys.sign({"sid": sid, "aud": "open", "exp": int(time.time()) - 60})
    assert client.get("/lti/open", params={"code": stale}).status_code == 403


def test_public_url_rules():
    assert check_public_url("https://grader.example.edu/") == "https://grader.example.edu"
    assert check_public_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    for bad in ("http://grader.example.edu", "ftp://x", "grader.example.edu", "https://x/?a=1"):
        with pytest.raises(ValueError):
            check_public_url(bad)


def test_cli_errors_are_one_line_with_exit_2(tmp_path):
    data = tmp_path / "data"
    r = grade("lti", "add-platform", "--issuer", "https://lms.example", "--client-id", "c", "--deployment-id", "d",
              "--auth-url", "http://lms.example/auth", "--token-url", "https://lms.example/token",
              "--jwks-url", "https://lms.example/jwks", data=data)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "https" in r.stderr
    r = grade("lti", "remove-platform", "--issuer", "https://nobody.example", "--client-id", "c", data=data)
    assert r.returncode == 2 and "no platform" in r.stderr
    r = grade("lti", "tool-config", "--public-url", "http://grader.example.edu", data=data)
    assert r.returncode == 2 and "--public-url" in r.stderr
    ok = grade("lti", "add-platform", "--issuer", "https://lms.example", "--client-id", "c", "--deployment-id", "d1",
               "--deployment-id", "d2", "--auth-url", "https://lms.example/auth", "--token-url",
               "https://lms.example/token", "--jwks-url", "https://lms.example/jwks", "--json", data=data)
    assert ok.returncode == 0 and json.loads(ok.stdout)["deployment_ids"] == ["d1", "d2"]
    r = subprocess_serve_bad_url()
    assert r.returncode == 2 and "--public-url" in r.stderr and "Traceback" not in r.stderr


def subprocess_serve_bad_url():
    import subprocess
    import sys

    from tests.lti.conftest import ROOT

    return subprocess.run([sys.executable, "-m", "grader", "serve", "--public-url", "http://grader.example.edu",
                           "--port", "18799"], cwd=ROOT, capture_output=True, text=True, timeout=60)
