"""`grade serve` as a real process on 127.0.0.1, grading exercise 1 with one worker.

One server per session (see conftest.Server); the tests at the end kill it
(kill -9, SIGTERM) and start it again on the same data directory: every
accepted submission must end `done`, with exactly one report.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import signal
import sqlite3
import struct
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.service.conftest import SOLUTION, STUB, Server, free_port, rss_mib, slow_solution

pytestmark = pytest.mark.timeout(300)

ONE = {"exercises": [1]}


def _until(client: httpx.Client, sid: str, status: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sub = client.get(f"/v1/submissions/{sid}").json()
        if sub["status"] == status:
            return sub
        time.sleep(0.05)
    raise AssertionError(f"{sid} is {sub['status']}, not {status}, after {seconds} s")


def test_the_web_process_never_loads_tensorflow_and_stays_small(server: Server):
    with server.client() as c:
        assert c.post("/v1/submissions?wait=120", json={**ONE, "files": {"loss.py": SOLUTION}}).json()["status"] == "done"
    maps = open(f"/proc/{server.proc.pid}/maps").read()
    assert "tensorflow" not in maps and "numpy" not in maps and "_multiarray" not in maps
    assert rss_mib(server.proc.pid) <= 150
    assert server.workers(), "the grading happens in worker processes"


def test_wait_holds_the_answer_until_graded(server: Server):
    with server.client() as c:
        r = c.post("/v1/submissions?wait=120", json={**ONE, "files": {"ex1_loss/loss.py": SOLUTION}, "metadata": {"u": 42}})
        assert r.status_code == 201
        sub = r.json()
        assert sub["status"] == "done" and sub["score"] == sub["max_score"] == 10.0 and sub["attempts"] == 1
        assert sub["report"]["submission"] == sub["id"] and sub["report"]["exercises"][0]["status"] == "passed"
        assert sub["metadata"] == {"u": 42} and sub["started_at"] and sub["finished_at"] and sub["error"] is None
        assert sub["timings"]["grading_s"] > 0
        assert c.get(f"/v1/submissions/{sub['id']}?wait=120").json() == sub

        stub = c.post("/v1/submissions?wait=120", json={**ONE, "files": {"loss.py": STUB}}).json()
        assert stub["status"] == "done" and stub["score"] == 0.0
        assert stub["report"]["exercises"][0]["status"] == "not_attempted"

        start = time.monotonic()
        slow = c.post("/v1/submissions?wait=0.5", json={**ONE, "files": {"loss.py": slow_solution(2, "wait")}}).json()
        assert slow["status"] in ("queued", "running") and time.monotonic() - start < 5
        done = c.get(f"/v1/submissions/{slow['id']}?wait=120").json()
        assert done["status"] == "done" and done["score"] == 10.0


def test_the_same_code_as_files_and_as_a_notebook_gives_the_same_report(server: Server):
    from tests.scenario import SCENARIOS, normalise

    mistake = (SCENARIOS / "ex1_loss" / "sum_instead_of_mean" / "submission" / "loss.py").read_text()
    notebook = {"cells": [{"cell_type": "code", "source": "!pip install -q tensorflow\nimport tensorflow as tf"},
                          {"cell_type": "code", "source": mistake.replace("import tensorflow as tf\n", "")},
                          {"cell_type": "code", "source": "print(loss([1.0], [2.0]))"}],
                "nbformat": 4, "nbformat_minor": 5, "metadata": {}}
    with server.client() as c:
        as_files = c.post("/v1/submissions?wait=120", json={**ONE, "files": {"loss.py": mistake}}).json()
        archive = base64.b64encode(json.dumps(notebook).encode()).decode()
        as_notebook = c.post("/v1/submissions?wait=120", json={**ONE, "archive": archive}).json()
    reports = [normalise(s["report"]) for s in (as_files, as_notebook)]
    for report in reports:
        report.pop("submission")
    assert reports[0] == reports[1] and reports[0]["score"] == 2.5
    assert as_notebook["report"]["environment"]["notes"][0].startswith("submission.ipynb: cells 1 (in part: shell")


def test_metrics_need_a_key(server: Server):
    r = httpx.get(f"{server.url}/metrics", timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    with server.client() as c:
        text = c.get("/metrics").text
    assert "# TYPE grader_submissions_finished_total counter" in text and "grader_queue_depth" in text


def test_body_rate_and_queue_limits(server: Server):
    with server.client() as c:
        r = c.post("/v1/submissions", content=b'{"files": {"loss.py": "' + b"#" * (9 * 1024 * 1024) + b'"}}',
                   headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"

    with server.client("slowpoke") as c:  # two submissions a minute
        codes = [c.post("/v1/submissions", json={**ONE, "files": {"loss.py": SOLUTION}}).status_code for _ in range(3)]
        assert codes[:2] == [201, 201]
        r = c.post("/v1/submissions", json={**ONE, "files": {"loss.py": SOLUTION}})
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1

    with server.client("beta") as c:  # the queue holds 8; the worker is busy with a slow one
        busy = c.post("/v1/submissions", json={**ONE, "files": {"loss.py": slow_solution(3, "busy")}}).json()["id"]
        answers = [c.post("/v1/submissions", json={**ONE, "files": {"loss.py": SOLUTION}}) for _ in range(10)]
        refused = [r for r in answers if r.status_code == 503]
        assert refused and all(r.status_code in (201, 503) for r in answers)
        assert refused[0].json()["error"]["code"] == "queue_full" and int(refused[0].headers["Retry-After"]) >= 1
        for r in answers:
            if r.status_code == 201:
                assert c.delete(f"/v1/submissions/{r.json()['id']}").status_code in (200, 409)
        assert c.get(f"/v1/submissions/{busy}?wait=120").json()["status"] == "done"


def test_every_error_status_of_the_contract(server: Server):
    def code(r: httpx.Response, status: int) -> str:
        assert r.status_code == status, r.text
        assert set(r.json()) == {"error"} and r.json()["error"]["message"]
        return r.json()["error"]["code"]

    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        assert code(anonymous.get("/v1/submissions"), 401) == "unauthorized"
        assert anonymous.get("/v1/health").json()["workers"] == 1
    with server.client() as alpha, server.client("beta") as beta:
        assert code(alpha.post("/v1/submissions", content=b"{", headers={"Content-Type": "application/json"}), 400) \
            == "malformed_json"
        assert code(alpha.get("/v1/submissions/no-such-id"), 404) == "not_found"
        assert code(alpha.put("/v1/submissions"), 405) == "method_not_allowed"
        assert code(alpha.post("/v1/submissions", json={**ONE, "files": {"loss.py": SOLUTION}, "exercises": [7]}), 422) \
            == "unknown_exercise"
        body = {**ONE, "files": {"loss.py": STUB}, "external_id": "replayed"}
        first = alpha.post("/v1/submissions", json=body)
        assert first.status_code == 201
        again = alpha.post("/v1/submissions", json=body)
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        assert code(alpha.post("/v1/submissions", json={**body, "seed": 5}), 409) == "conflict"
        assert code(beta.get(f"/v1/submissions/{first.json()['id']}"), 404) == "not_found"
        assert all(s["id"] != first.json()["id"] for s in beta.get("/v1/submissions").json()["submissions"])
        assert alpha.get(f"/v1/submissions/{first.json()['id']}?wait=120").json()["status"] == "done"


def _bomb(size: int, lie: bool) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("loss.py", SOLUTION)
        with zf.open("ex2_train_step/train_step.py", "w", force_zip64=False) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                f.write(chunk)
    data = bytearray(buf.getvalue())
    if lie:  # claim 100 bytes in both headers of the big member
        local = data.find(b"PK\x03\x04", 30)
        struct.pack_into("<I", data, local + 22, 100)
        central = data.rfind(b"PK\x01\x02")
        struct.pack_into("<I", data, central + 24, 100)
    return base64.b64encode(bytes(data)).decode()


def test_zip_bombs_are_refused_without_being_unpacked(server: Server):
    before = rss_mib(server.proc.pid)
    with server.client() as c:
        for lie in (False, True):
            r = c.post("/v1/submissions", json={"archive": _bomb(200 << 20, lie)})
            assert r.status_code == 422, r.text
            assert r.json()["error"]["code"] in ("unsafe_archive", "bad_archive")
    assert rss_mib(server.proc.pid) - before < 60


class _Receiver(BaseHTTPRequestHandler):
    got: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.got.append((self.path, dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_callbacks_are_signed_and_retried(server: Server):
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        hook = f"http://127.0.0.1:{receiver.server_port}/hook?course=7"
        dead = f"http://127.0.0.1:{free_port()}/nobody"
        with server.client() as c:
            ok = c.post("/v1/submissions?wait=120", json={**ONE, "files": {"loss.py": SOLUTION}, "callback_url": hook}).json()
            gone = c.post("/v1/submissions?wait=120", json={**ONE, "files": {"loss.py": SOLUTION}, "callback_url": dead}).json()
            delivered = _callback(c, ok["id"], "delivered")
            failed = _callback(c, gone["id"], "failed")
        assert delivered["callback"]["attempts"] == 1
        assert failed["callback"]["attempts"] == 3 and failed["callback"]["last_error"]
        path, headers, body = _Receiver.got[0]
        assert path == "/hook?course=7"
        secret = server.keys["alpha"]["webhook_secret"]
        assert headers["X-Grader-Signature"] == "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        sent = json.loads(body)
        assert sent["id"] == ok["id"] and sent["status"] == "done" and sent["report"]["score"] == 10.0
    finally:
        receiver.shutdown()


def _callback(c: httpx.Client, sid: str, state: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sub = c.get(f"/v1/submissions/{sid}").json()
        if sub["callback"]["state"] == state:
            return sub
        time.sleep(0.1)
    raise AssertionError(f"callback of {sid}: {sub['callback']}")


def test_a_killed_worker_is_replaced_and_its_job_retried(server: Server):
    with server.client() as c:
        sid = c.post("/v1/submissions", json={**ONE, "files": {"loss.py": slow_solution(3, "victim")}}).json()["id"]
        _until(c, sid, "running")
        time.sleep(0.5)
        workers = server.workers()
        assert workers
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        sub = c.get(f"/v1/submissions/{sid}?wait=120").json()
        assert sub["status"] == "done" and sub["score"] == 10.0 and sub["attempts"] == 2, sub
        assert sorted(server.workers()) != sorted(workers)


def _done_once(server: Server, ids: list[str]) -> None:
    logs = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
    for sid in ids:
        assert sum(1 for e in logs if e.get("event") == "job_done" and e.get("id") == sid) == 1, sid


def test_kill9_of_the_server_loses_nothing(server: Server):
    with server.client() as c:
        victim = c.post("/v1/submissions", json={**ONE, "files": {"loss.py": slow_solution(3, "kill9")}}).json()["id"]
        others = [c.post("/v1/submissions", json={**ONE, "files": {"loss.py": SOLUTION}, "external_id": f"k9-{i}"}).json()["id"]
                  for i in range(3)]
        _until(c, victim, "running")
        workers = server.workers()
    server.kill9()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers), "the workers die with the service"
    server.start()
    with server.client() as c:
        subs = [c.get(f"/v1/submissions/{sid}?wait=120").json() for sid in [victim, *others]]
        assert [s["status"] for s in subs] == ["done"] * 4
        assert subs[0]["attempts"] == 2 and all(s["score"] == 10.0 for s in subs)
        replay = c.post("/v1/submissions", json={**ONE, "files": {"loss.py": SOLUTION}, "external_id": "k9-0"})
        assert replay.status_code == 200 and replay.json()["id"] == others[0]
    _done_once(server, [victim, *others])


def test_sigterm_hands_back_the_running_job(server: Server):
    with server.client() as c:
        sid = c.post("/v1/submissions", json={**ONE, "files": {"loss.py": slow_solution(6, "term")}}).json()["id"]
        _until(c, sid, "running")
    assert server.term() < 20
    last = json.loads(server.log.read_text().splitlines()[-1])
    assert last["event"] == "stopped" and last["signal"] == "SIGTERM", last
    db = sqlite3.connect(server.data / "service.db")
    assert db.execute("SELECT status, attempts FROM submissions WHERE id = ?", (sid,)).fetchone() == ("queued", 0)
    db.close()
    server.start()
    with server.client() as c:
        sub = c.get(f"/v1/submissions/{sid}?wait=120").json()
        assert (sub["status"], sub["attempts"]) == ("done", 1)
    _done_once(server, [sid])


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def test_one_server_per_data_directory(server: Server):
    from tests.service.conftest import grade_cli

    second = grade_cli("serve", "--port", str(free_port()), "--data", str(server.data))
    assert second.returncode == 2 and "another grade serve" in second.stderr
