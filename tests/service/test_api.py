"""The HTTP API in process: every field and status code that needs no grading.

The app runs without its lifespan here, so nothing is graded and submissions stay
`queued`; grading, waiting, callbacks and limits are tested on a real server
(test_real_server.py).
"""

from __future__ import annotations

import base64
import io
import json
import stat
import zipfile

import pytest

from tests.service.conftest import SOLUTION, auth, zip_b64

FILES = {"files": {"loss.py": SOLUTION}, "exercises": [1]}


def _error(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def test_create_get_list_and_cancel(api):
    client, _, one, _ = api
    r = client.post("/v1/submissions", json={**FILES, "metadata": {"course": 7}, "seed": 3}, headers=auth(one.key))
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["status"] == "queued" and sub["metadata"] == {"course": 7} and sub["attempts"] == 0
    assert sub["created_at"].endswith("Z") and sub["started_at"] is None and sub["finished_at"] is None
    assert sub["report"] is None and sub["error"] is None and sub["callback"] is None and sub["score"] is None
    assert sub["exercises"] == [1] and sub["seed"] == 3
    got = client.get(f"/v1/submissions/{sub['id']}", headers=auth(one.key)).json()
    assert got == sub
    listed = client.get("/v1/submissions?status=queued&limit=5", headers=auth(one.key)).json()["submissions"]
    assert [s["id"] for s in listed] == [sub["id"]]
    assert client.get("/v1/submissions?status=done", headers=auth(one.key)).json() == {"submissions": []}
    gone = client.delete(f"/v1/submissions/{sub['id']}", headers=auth(one.key))
    assert gone.status_code == 200 and gone.json()["status"] == "cancelled" and gone.json()["finished_at"]
    assert client.delete(f"/v1/submissions/{sub['id']}", headers=auth(one.key)).json()["status"] == "cancelled"


def test_a_running_submission_cannot_be_cancelled(api):
    client, service, one, _ = api
    sid = client.post("/v1/submissions", json=FILES, headers=auth(one.key)).json()["id"]
    assert service.store.claim("test", 30).id == sid
    _error(client.delete(f"/v1/submissions/{sid}", headers=auth(one.key)), 409, "not_cancellable")


def test_replay_of_an_external_id(api):
    client, _, one, two = api
    body = {**FILES, "external_id": "course7-hw2-u42"}
    first = client.post("/v1/submissions", json=body, headers=auth(one.key))
    again = client.post("/v1/submissions", json=body, headers=auth(one.key))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    changed = {**body, "files": {"loss.py": SOLUTION + "\n# changed\n"}}
    _error(client.post("/v1/submissions", json=changed, headers=auth(one.key)), 409, "conflict")
    # another key's external_ids are its own
    assert client.post("/v1/submissions", json=changed, headers=auth(two.key)).status_code == 201
    by_ext = client.get("/v1/submissions?external_id=course7-hw2-u42", headers=auth(one.key)).json()["submissions"]
    assert [s["id"] for s in by_ext] == [first.json()["id"]]


def test_keys(api, tmp_path):
    client, service, one, two = api
    from grader.service import keys

    _error(client.get("/v1/exercises"), 401, "unauthorized")
    _error(client.get("/v1/exercises", headers=auth("gk_not-a-key")), 401, "unauthorized")
    _error(client.get("/v1/exercises", headers={"Authorization": f"Basic {one.key}"}), 401)
    sid = client.post("/v1/submissions", json=FILES, headers=auth(one.key)).json()["id"]
    _error(client.get(f"/v1/submissions/{sid}", headers=auth(two.key)), 404, "not_found")
    _error(client.delete(f"/v1/submissions/{sid}", headers=auth(two.key)), 404, "not_found")
    assert client.get("/v1/submissions", headers=auth(two.key)).json() == {"submissions": []}
    # stored as a hash only
    dump = "\n".join(service.store._db().iterdump())
    assert one.key not in dump and keys.digest(one.key) in dump
    keys.revoke(service.store, "one")
    _error(client.get(f"/v1/submissions/{sid}", headers=auth(one.key)), 401)


def test_exercises_health_metrics_and_docs(api):
    client, _, one, _ = api
    exercises = client.get("/v1/exercises", headers=auth(one.key)).json()["exercises"]
    first = exercises[0]
    assert {"id", "slug", "title", "file", "functions", "max_score", "parts"} <= set(first)
    assert first["id"] == 1 and first["file"] == "loss.py" and first["functions"] == ["loss"]
    assert client.get("/v1/health").json() == {"status": "ok", "queued": 0, "running": 0, "workers": 1}
    client.post("/v1/submissions", json=FILES, headers=auth(one.key))
    assert client.get("/v1/health").json()["queued"] == 1
    assert client.get("/metrics").status_code == 401  # a key, unless --metrics-public
    text = client.get("/metrics", headers=auth(one.key)).text
    assert "grader_queue_depth 1.0" in text
    assert 'grader_http_requests_total{code="201",method="POST",route="/v1/submissions"} 1.0' in text
    assert "/v1/submissions" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200


def test_fastapi_errors_have_the_contract_shape(api):
    client, _, one, _ = api
    _error(client.get("/nowhere"), 404, "not_found")
    _error(client.request("PUT", "/v1/health"), 405, "method_not_allowed")
    _error(client.post("/v1/submissions", content=b"{not json", headers={**auth(one.key), "Content-Type": "application/json"}),
           400, "malformed_json")
    _error(client.post("/v1/submissions", json=[1, 2], headers=auth(one.key)), 400)
    _error(client.post("/v1/submissions", json={**FILES, "colour": "red"}, headers=auth(one.key)), 422, "invalid")
    _error(client.get("/v1/submissions?limit=1000", headers=auth(one.key)), 422, "invalid")
    _error(client.post("/v1/submissions?wait=121", json=FILES, headers=auth(one.key)), 422)
    _error(client.post("/v1/submissions?wait=0", json=FILES, headers=auth(one.key)), 422)


def _zip_with_link() -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("loss.py", SOLUTION)
        info = zipfile.ZipInfo("ex2_train_step/train_step.py")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    return base64.b64encode(buf.getvalue()).decode()


NOTEBOOK = base64.b64encode(json.dumps({"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode()).decode()


@pytest.mark.parametrize("body, code, words", [
    ({"exercises": [1]}, "invalid", "exactly one"),
    ({**FILES, "archive": zip_b64({"loss.py": SOLUTION})}, "invalid", "exactly one"),
    ({**FILES, "exercises": [9]}, "unknown_exercise", "unknown exercise"),
    ({**FILES, "exercises": []}, "invalid", "empty"),
    ({**FILES, "metadata": {"x": "y" * 5000}}, "metadata_too_large", "4096"),
    ({"files": {"../loss.py": SOLUTION}}, "unsafe_path", "relative"),
    ({"files": {"/tmp/loss.py": SOLUTION}}, "unsafe_path", "relative"),
    ({"files": {"loss.py": SOLUTION, "loss.py/x.py": ""}}, "unsafe_path", "both"),
    ({"files": {"notes.txt": "hello"}}, "no_student_file", "loss.py"),
    ({"files": {"two_layer.py": "x = 1"}, "exercises": [1]}, "no_student_file", "loss.py"),
    ({"archive": "not base64!"}, "bad_archive", "base64"),
    ({"archive": base64.b64encode(b"just bytes").decode()}, "bad_archive", "neither"),
    ({"archive": base64.b64encode(b"PK\x03\x04 broken").decode()}, "bad_archive", "not a valid zip"),
    ({"archive": zip_b64({"../../evil.py": "x", "loss.py": SOLUTION})}, "unsafe_archive", "leaves its folder"),
    ({"archive": _zip_with_link()}, "unsafe_archive", "symbolic link"),
    ({"archive": zip_b64({"readme.md": "hi"})}, "no_student_file", "loss.py"),
    ({"archive": NOTEBOOK}, "no_student_file", "defines none of the functions"),
    ({"archive": base64.b64encode(b'{"cells": "x", "nbformat": 4}').decode()}, "bad_archive", "no list of cells"),
    ({**FILES, "callback_url": "ftp://example.org/x"}, "callback_refused", "http or https"),
    ({**FILES, "callback_url": "http://127.0.0.1:9/hook"}, "callback_refused", "non-public"),
    ({**FILES, "callback_url": "http://10.1.2.3/hook"}, "callback_refused", "non-public"),
    ({**FILES, "callback_url": "http://[::1]/hook"}, "callback_refused", "non-public"),
    ({**FILES, "callback_url": "http://169.254.169.254/latest/meta-data"}, "callback_refused", "non-public"),
])
def test_unusable_submissions_are_422(api, body, code, words):
    client, service, one, _ = api
    err = _error(client.post("/v1/submissions", json=body, headers=auth(one.key)), 422, code)
    assert words in err["message"]
    assert client.get("/v1/health").json()["queued"] == 0
    assert service.store.one("SELECT COUNT(*) AS n FROM payloads")["n"] == 0  # nothing stored for a refused one


def test_accepted_layouts(api):
    client, service, one, _ = api
    notebook = {"cells": [{"cell_type": "code", "source": SOLUTION}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}
    for body, stored in (({"archive": zip_b64({"alice/ex1_loss/loss.py": SOLUTION, "__MACOSX/._x": ""})}, "zip"),
                         ({"archive": zip_b64({"alice/work.ipynb": json.dumps(notebook)})}, "zip"),
                         ({"archive": base64.b64encode(json.dumps(notebook).encode()).decode()}, "ipynb"),
                         ({"files": {"ex1_loss/loss.py": SOLUTION, "notes/readme.txt": "hi"}}, "files")):
        r = client.post("/v1/submissions", json=body, headers=auth(one.key))
        assert r.status_code == 201, r.text
        kind, data = service.store.payload(r.json()["id"])
        assert kind == stored and data


def test_a_streamed_body_over_the_limit_is_413(api):
    client, _, one, _ = api

    async def chunks():
        yield b'{"files": {"loss.py": "'
        for _ in range(9):
            yield b"#" * (1 << 20)
        yield b'"}}'

    r = client.post("/v1/submissions", content=chunks(), headers={**auth(one.key), "Content-Type": "application/json"})
    _error(r, 413, "too_large")


def test_keys_commands(tmp_path):
    from typer.testing import CliRunner

    from grader.cli import app

    runner = CliRunner()

    def grade(*args: str):
        return runner.invoke(app, list(args))

    data = str(tmp_path / "data")
    made = grade("keys", "create", "course-7", "--json", "--data", data)
    assert made.exit_code == 0, made.output
    key = json.loads(made.stdout)
    assert set(key) == {"name", "key", "webhook_secret"} and key["name"] == "course-7"
    assert grade("keys", "create", "course-7", "--data", data).exit_code == 2
    assert grade("keys", "create", "bad name!", "--data", data).exit_code == 2
    listed = json.loads(grade("keys", "list", "--json", "--data", data).stdout)
    assert [(k["name"], k["revoked_at"]) for k in listed] == [("course-7", None)]
    assert key["key"] not in grade("keys", "list", "--data", data).stdout
    assert grade("keys", "revoke", "course-7", "--data", data).exit_code == 0
    assert json.loads(grade("keys", "list", "--json", "--data", data).stdout)[0]["revoked_at"]
    assert grade("keys", "revoke", "course-7", "--data", data).exit_code == 2
    refused = grade("serve", "--broker", "http://127.0.0.1:6379/0", "--data", data)
    assert refused.exit_code == 2 and "--broker" in refused.output
