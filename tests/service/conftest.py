"""Fixtures for the service tests: an in-process app, and one real `grade serve` process per session.

The in-process app is the real app without its lifespan: nothing is graded, the
submissions stay queued, which is what the API tests need. The real server
(`python -m grader serve` on 127.0.0.1, one worker) grades exercise 1.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (ROOT / "solutions" / "ex1_loss" / "loss.py").read_text()
STUB = (ROOT / "exercises" / "ex1_loss" / "loss.py").read_text()


def slow_solution(seconds: float, tag: str = "") -> str:
    """Exercise 1's solution, `seconds` slower to import (a job that is surely running when we act)."""
    return f"import time\ntime.sleep({seconds})  # {tag}\n" + SOLUTION


def zip_b64(members: dict[str, bytes | str]) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return base64.b64encode(buf.getvalue()).decode()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class AsgiClient:
    """A synchronous client for the app in this process (httpx's ASGI transport, no lifespan)."""

    def __init__(self, app):
        self.app = app

    def request(self, method: str, url: str, **kw) -> httpx.Response:
        async def go():
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.request(method, url, **kw)

        return asyncio.run(go())

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)


@pytest.fixture
def api(tmp_path):
    """(client, service, key, other key) for an in-process app on a fresh data directory."""
    from grader.service import keys
    from grader.service.app import create_app
    from grader.service.config import Config
    from grader.service.service import Service

    config = Config(data=tmp_path / "data", workers=1, rate_per_minute=1000)
    service = Service(config)
    one = keys.create(service.store, "one")
    two = keys.create(service.store, "two")
    return AsgiClient(create_app(config, service)), service, one, two


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def grade_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


class Server:
    """One `grade serve` process on 127.0.0.1; `kill9()`, `term()` and `start()` again on the same data."""

    ARGS = ["--workers", "1", "--allow-private-callbacks", "--queue-max", "8", "--rate-limit", "1000",
            "--callback-delays", "0,0.3,0.3", "--drain", "1"]

    def __init__(self, data: Path):
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.runs = 0
        self.keys = {}
        for name in ("alpha", "beta"):
            made = grade_cli("keys", "create", name, "--json", "--data", str(data))
            assert made.returncode == 0, made.stderr
            self.keys[name] = json.loads(made.stdout)
        made = grade_cli("keys", "create", "slowpoke", "--json", "--data", str(data), "--rate-limit", "2")
        self.keys["slowpoke"] = json.loads(made.stdout)

    @property
    def log(self) -> Path:
        return self.data.parent / f"serve-{self.runs}.log"

    def logs(self) -> str:
        return "".join(p.read_text() for p in sorted(self.data.parent.glob("serve-*.log")))

    def start(self) -> None:
        self.runs += 1
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "grader", "serve", "--port", str(self.port), "--data", str(self.data), *self.ARGS],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"grade serve did not answer within 30 s:\n{self.log.read_text()}")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def term(self) -> float:
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        return time.monotonic() - start

    def client(self, name: str = "alpha") -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=auth(self.keys[name]["key"]), timeout=130)

    def workers(self) -> list[int]:
        """Pids of this server's grading workers (the pool's long-lived processes)."""
        return [pid for pid in descendants(self.proc.pid) if "worker" in cmdline(pid) and "grader" in cmdline(pid)]


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        children.setdefault(int(text[text.rfind(")") + 2:].split()[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("service") / "data"
    srv = Server(data)
    srv.start()
    yield srv
    if srv.proc is not None and srv.proc.poll() is None:
        srv.proc.send_signal(signal.SIGTERM)
        try:
            srv.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            srv.proc.kill()
