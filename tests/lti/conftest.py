"""Fixtures for the LTI tests: a real `grade serve --public-url` process, real platform processes
(tests/lti/platform_server.py, on the PyPI package lti1p3platform), and a small form-following
client that does what a browser does between them (redirects, self-submitting forms, cookies).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (ROOT / "solutions" / "ex1_loss" / "loss.py").read_text()
STUB = (ROOT / "exercises" / "ex1_loss" / "loss.py").read_text()
PORTS = iter(range(18700, 18800))


def port() -> int:
    """The next free port of this helper's range (18700-18799)."""
    for candidate in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    raise RuntimeError("no free port in 18700-18799")


def wait_http(url: str, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {seconds} s:\n{log.read_text()}")


def grade(*args: str, data: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args, "--data", str(data)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


class Tool:
    """`grade serve --public-url` on 127.0.0.1 with one grading slot; `kill9()` and `start()` again."""

    def __init__(self, data: Path, extra: tuple[str, ...] = ()):
        self.data, self.extra = data, extra
        self.port = port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        self.log = self.data.parent / f"tool-{self.runs}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "grader", "serve", "--port", str(self.port), "--data", str(self.data),
                 "--public-url", self.url, "--workers", "1", "--allow-private-callbacks", "--rate-limit", "1000",
                 "--drain", "1", *self.extra], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        wait_http(f"{self.url}/v1/health", self.proc, self.log)

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def db(self, sql: str, args: tuple = ()) -> list[dict]:
        con = sqlite3.connect(self.data / "service.db", timeout=30)
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute(sql, args).fetchall()]
        finally:
            con.close()


class Platform:
    """tests/lti/platform_server.py on 127.0.0.1: one issuer, its own RSA key."""

    def __init__(self, folder: Path, tool: Tool | None, client_id: str | None, deployment_id: str = "deploy-1"):
        folder.mkdir(parents=True, exist_ok=True)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode()
        (folder / "platform.pem").write_text(self.pem)
        self.port = port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.client_id, self.deployment_id = client_id, deployment_id
        self.log = folder / "platform.log"
        args = ["--port", str(self.port), "--key", str(folder / "platform.pem"), "--deployment-id", deployment_id]
        if tool is not None:
            args += ["--tool", tool.url, "--client-id", client_id]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("platform_server.py")), *args],
                                         cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        wait_http(f"{self.url}/control/state", self.proc, self.log)

    def register_with(self, tool: Tool) -> None:
        made = grade("lti", "add-platform", "--issuer", self.url, "--client-id", self.client_id, "--deployment-id",
                     self.deployment_id, "--auth-url", f"{self.url}/auth", "--token-url", f"{self.url}/token",
                     "--jwks-url", f"{self.url}/jwks", data=tool.data)
        assert made.returncode == 0, made.stderr

    def state(self) -> dict:
        return httpx.get(f"{self.url}/control/state").json()

    def set(self, **values) -> None:
        httpx.post(f"{self.url}/control/set", json=values).raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": (a.get("method") or "get").lower(), "fields": {},
                               "choices": []})
        elif tag in ("input", "textarea") and self.forms and a.get("name"):
            if a.get("type") == "radio":
                self.forms[-1]["choices"].append(a.get("value"))
            elif a.get("type") != "file":
                self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def forms(page: str) -> list[dict]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


class Browser:
    """What a browser does in an LTI flow: follows redirects, submits self-posting forms, keeps cookies."""

    def __init__(self):
        self.client = httpx.Client(follow_redirects=True, timeout=30)

    def autopost(self, r: httpx.Response) -> httpx.Response:
        """Submit the page's self-submitting form (an id_token to the tool, a JWT back to the platform)."""
        form = forms(r.text)[0]
        return self.client.post(form["action"], data=form["fields"])

    def launch(self, platform: Platform, **params) -> httpx.Response:
        """Start a launch from the platform; the tool's answer to the launch."""
        r = self.client.get(f"{platform.url}/start", params=params)
        assert r.status_code == 200, r.text
        return self.autopost(r)

    def deep_link(self, platform: Platform, exercise: str, user: str = "teacher-1") -> dict:
        page = self.launch(platform, kind="deeplink", user=user, role="instructor")
        assert page.status_code == 200, page.text
        chooser = next(f for f in forms(page.text) if "exercise" not in f["fields"] and f["choices"])
        back = self.client.post(chooser["action"], data={**chooser["fields"], "exercise": exercise})
        assert back.status_code == 200, back.text
        done = self.autopost(back)
        assert done.status_code == 200, done.text
        return platform.state()["last_deep_link"]

    def upload(self, page: httpx.Response, name: str, content: str) -> httpx.Response:
        form = next(f for f in forms(page.text) if f["action"].endswith("/lti/submit"))
        return self.client.post(form["action"], data=form["fields"], files={"file": (name, content.encode())})

    def result(self, status_page: httpx.Response, seconds: float = 120) -> httpx.Response:
        """The status page once grading has ended (it refreshes itself until then)."""
        deadline = time.monotonic() + seconds
        r = status_page
        while 'http-equiv="refresh"' in r.text:
            assert time.monotonic() < deadline, r.text
            time.sleep(0.3)
            r = self.client.get(str(r.url))
        return r


def wait_for(check, seconds: float = 60, step: float = 0.2):
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(step)


@pytest.fixture(scope="session")
def lti_world(tmp_path_factory):
    """One tool, two manually registered platforms (A and B, separate processes and keys)."""
    base = tmp_path_factory.mktemp("lti")
    tool = Tool(base / "tool" / "data")
    tool.data.mkdir(parents=True)
    a = Platform(base / "platform-a", tool, "tool-at-a")
    b = Platform(base / "platform-b", tool, "tool-at-b")
    a.register_with(tool)
    b.register_with(tool)
    tool.start()
    yield tool, a, b
    tool.stop()
    a.stop()
    b.stop()


@pytest.fixture(scope="session")
def ex1_link(lti_world):
    """A link of exercise 1 on platform A, placed by the tool's deep linking."""
    tool, a, _ = lti_world
    made = Browser().deep_link(a, "1")
    return made["links"][0]


