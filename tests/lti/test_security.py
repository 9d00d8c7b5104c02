"""Launch security: each bad launch is refused with a 4xx and makes no session; the tool's key rotates."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from grader.lti.launch import CLAIM
from tests.lti.conftest import Browser, grade

OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def login(tool, platform, client: httpx.Client) -> tuple[str, str]:
    r = client.get(f"{tool.url}/lti/login", params={
        "iss": platform.url, "login_hint": "stu-x", "target_link_uri": f"{tool.url}/lti/launch",
        "client_id": platform.client_id, "lti_message_hint": "{}"})
    assert r.status_code == 302, r.text
    query = parse_qs(urlsplit(r.headers["location"]).query)
    return query["state"][0], query["nonce"][0]


def claims(tool, platform, nonce: str, link: str, **changes) -> dict:
    now = int(time.time())
    found = {"iss": platform.url, "aud": platform.client_id, "sub": "stu-x", "iat": now, "exp": now + 300,
             "nonce": nonce, "name": "Eve", CLAIM + "message_type": "LtiResourceLinkRequest",
             CLAIM + "version": "1.3.0", CLAIM + "deployment_id": platform.deployment_id,
             CLAIM + "target_link_uri": f"{tool.url}/lti/launch", CLAIM + "resource_link": {"id": link},
             CLAIM + "custom": {"exercise": "1"},
             CLAIM + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]}
    found.update(changes)
    return found


def sign(platform, body: dict, key: str | None = None, kid: str = "platform-key-1") -> str:
    return jwt.encode(body, key or platform.pem, algorithm="RS256", headers={"kid": kid})


def sessions(tool) -> int:
    return tool.db("SELECT COUNT(*) AS n FROM lti_sessions")[0]["n"]


def test_a_well_formed_launch_is_accepted(lti_world):
    """The control of the refusals below: the same crafted launch, nothing wrong with it."""
    tool, a, _ = lti_world
    client = httpx.Client()
    state, nonce = login(tool, a, client)
    r = client.post(f"{tool.url}/lti/launch", data={"id_token": sign(a, claims(tool, a, nonce, "sec-link")),
                                                    "state": state})
    assert r.status_code == 200, r.text
    assert "lti_session=" in r.headers.get("set-cookie", "")


BAD = {
    "bad signature": lambda t, p, n: sign(p, claims(t, p, n, "sec-link"), key=OTHER_KEY),
    "unknown key": lambda t, p, n: sign(p, claims(t, p, n, "sec-link"), key=OTHER_KEY, kid="no-such-kid"),
    "iss": lambda t, p, n: sign(p, claims(t, p, n, "sec-link", iss="https://evil.example")),
    "aud": lambda t, p, n: sign(p, claims(t, p, n, "sec-link", aud="another-tool")),
    "azp": lambda t, p, n: sign(p, claims(t, p, n, "sec-link", aud=[p.client_id, "x"], azp="x")),
    "deployment": lambda t, p, n: sign(p, claims(t, p, n, "sec-link", **{CLAIM + "deployment_id": "deploy-x"})),
    "expired": lambda t, p, n: sign(p, claims(t, p, n, "sec-link", iat=int(time.time()) - 900,
                                              exp=int(time.time()) - 300)),
    "nonce": lambda t, p, n: sign(p, claims(t, p, n + "x", "sec-link")),
}


@pytest.mark.parametrize("what", list(BAD))
def test_a_bad_launch_is_refused_without_a_session(lti_world, what):
    tool, a, _ = lti_world
    client = httpx.Client()
    state, nonce = login(tool, a, client)
    before = sessions(tool)
    r = client.post(f"{tool.url}/lti/launch", data={"id_token": BAD[what](tool, a, nonce), "state": state})
    assert 400 <= r.status_code < 500, (what, r.status_code, r.text)
    assert "lti_session=" not in r.headers.get("set-cookie", "")
    assert sessions(tool) == before
    assert "Traceback" not in r.text and "This launch cannot continue" in r.text


def test_an_unknown_state_and_a_replayed_launch_are_refused(lti_world):
    tool, a, _ = lti_world
    client = httpx.Client()
    state, nonce = login(tool, a, client)
    token = sign(a, claims(tool, a, nonce, "sec-link"))
    before = sessions(tool)
    wrong = client.post(f"{tool.url}/lti/launch", data={"id_token": token, "state": "made-up"})
    assert wrong.status_code == 403 and "state" in wrong.text
    cookieless = httpx.post(f"{tool.url}/lti/launch", data={"id_token": token, "state": "made-up"})
    assert cookieless.status_code == 403
    assert sessions(tool) == before
    first = client.post(f"{tool.url}/lti/launch", data={"id_token": token, "state": state})
    assert first.status_code == 200
    replayed = httpx.post(f"{tool.url}/lti/launch", data={"id_token": token, "state": state})
    assert replayed.status_code == 403 and "used" in replayed.text
    # the state of a new login does not make an old id_token (its nonce used) good again
    state2, _ = login(tool, a, client)
    again = client.post(f"{tool.url}/lti/launch", data={"id_token": token, "state": state2})
    assert again.status_code == 403
    assert sessions(tool) == before + 1


def test_a_launch_survives_a_restart_between_login_and_launch(lti_world):
    """State and nonces live in the database: the login of one run, the launch of the next."""
    tool, a, _ = lti_world
    client = httpx.Client()
    state, nonce = login(tool, a, client)
    tool.stop()
    tool.start()
    r = client.post(f"{tool.url}/lti/launch", data={"id_token": sign(a, claims(tool, a, nonce, "sec-link")),
                                                    "state": state})
    assert r.status_code == 200, r.text


def test_unregistered_platforms_and_other_targets_are_refused_at_login(lti_world):
    tool, a, _ = lti_world
    r = httpx.get(f"{tool.url}/lti/login", params={"iss": "https://nobody.example", "login_hint": "x"})
    assert r.status_code == 400 and "not registered" in r.text
    r = httpx.get(f"{tool.url}/lti/login", params={"iss": a.url, "login_hint": "x", "client_id": a.client_id,
                                                   "target_link_uri": "https://elsewhere.example/lti/launch"})
    assert r.status_code == 400


def test_a_session_cannot_reach_another_platforms_link(lti_world, ex1_link):
    """A student's session of platform A does not submit on, nor see, platform B's links."""
    tool, a, b = lti_world
    student = Browser()
    page = student.launch(a, user="stu-iso", link=ex1_link)
    assert page.status_code == 200
    rows = tool.db("SELECT s.platform_id, l.platform_id AS link_platform FROM lti_sessions s JOIN lti_links l "
                   "ON l.id = s.link_id")
    assert all(r["platform_id"] == r["link_platform"] for r in rows)


def test_rotate_key_keeps_the_old_key_listed_and_signs_with_the_new(lti_world):
    tool, a, _ = lti_world
    old = {k["kid"] for k in httpx.get(f"{tool.url}/lti/jwks").json()["keys"]}
    done = grade("lti", "rotate-key", "--json", data=tool.data)
    assert done.returncode == 0, done.stderr
    new = json.loads(done.stdout)["kid"]
    listed = {k["kid"] for k in httpx.get(f"{tool.url}/lti/jwks").json()["keys"]}
    assert listed == old | {new}
    item = Browser().deep_link(a, "5")  # the platform verifies the new key's signature
    assert jwt.get_unverified_header(item["jwt"])["kid"] == new


def test_two_launches_started_at_once_in_one_browser_both_work(lti_world):
    """A course page with two activities starts two logins before either launch (one state cookie per login)."""
    tool, a, _ = lti_world
    client = httpx.Client()
    first, second = login(tool, a, client), login(tool, a, client)
    for state, nonce in (first, second):
        r = client.post(f"{tool.url}/lti/launch", data={"id_token": sign(a, claims(tool, a, nonce, "sec-link")),
                                                        "state": state})
        assert r.status_code == 200, r.text


def test_a_form_submits_on_its_own_launch_after_another_launch_in_the_same_browser(lti_world, ex1_link):
    """Two activities open in two tabs: the cookie names the latest launch, the forms their own."""
    tool, a, _ = lti_world
    httpx.post(f"{a.url}/control/link", json={"link": "second-tab", "custom": {"exercise": "1"}}).raise_for_status()
    student = Browser()
    first = student.launch(a, user="stu-tabs", link=ex1_link)
    student.launch(a, user="stu-tabs", link="second-tab")
    status = student.upload(first, "loss.py", "def loss(p, t):\n    raise NotImplementedError\n")
    sid = str(status.url).rsplit("/", 1)[1]
    linked = tool.db("SELECT l.resource_link_id FROM lti_submissions s JOIN lti_links l ON l.id = s.link_id "
                     "WHERE s.submission_id = ?", (sid,))
    assert linked == [{"resource_link_id": ex1_link}]
