"""`GET /v1/report`: the class report of one key's graded submissions, in the service's own app.

Submissions are posted through the API; their grading is stood in for by finishing their
leases with fixture reports (as a worker does), since what is tested is the view, not grading.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import classreport_fixture as fx
from tests.service.conftest import AsgiClient, auth

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import classgen  # noqa: E402

# three different students' exercises 3 and 5; s1 and s4 send the same (s2 and s5, s3 and s6 too)
_GEN = classgen.generate(3, 0, 0)[0]
SOURCES = {n: {"two_layer.py": files["ex3_two_layer"], "quantize.py": files["ex5_quantize"] + f"# mine, {n}\n"}
           for n, files in enumerate(_GEN.values())}


def make_service(data_dir: Path):
    from grader.service import keys
    from grader.service.app import create_app
    from grader.service.config import Config
    from grader.service.service import Service

    config = Config(data=data_dir, workers=1, rate_per_minute=1000)
    service = Service(config)
    one, two = keys.create(service.store, "one"), keys.create(service.store, "two")
    return AsgiClient(create_app(config, service)), service, one, two


def grade_as_a_worker(service, sid_to_report: dict[str, dict]) -> None:
    while (claim := service.store.claim("test", 60)) is not None:
        assert service.store.finish(claim.id, claim.token, sid_to_report[claim.id])


@pytest.fixture
def served(tmp_path):
    client, service, one, two = make_service(tmp_path / "data")
    reports = {}
    for n, sid in enumerate(fx.CLASS):  # key one: the six students; key two: one other submission
        made = client.post("/v1/submissions", headers=auth(one.key),
                           json={"files": SOURCES[n % 3], "external_id": sid})
        assert made.status_code == 201, made.text
        reports[made.json()["id"]] = fx.report(sid)
    other = client.post("/v1/submissions", headers=auth(two.key),
                        json={"files": SOURCES[0], "external_id": "someone-else"})
    reports[other.json()["id"]] = fx.report("s1")
    grade_as_a_worker(service, reports)
    queued = client.post("/v1/submissions", headers=auth(one.key),  # not graded yet: not in the report
                         json={"files": SOURCES[1], "external_id": "still-queued"})
    assert queued.status_code == 201
    return client, service, one, two


def _key(k):
    return k.key


def test_the_report_is_key_scoped_json_by_default(served):
    client, service, one, two = served
    got = client.get("/v1/report", headers=auth(_key(one)))
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/json")
    data = got.json()
    assert data["submissions"] == 6 and sorted(s["submission"] for s in data["students"]) == sorted(fx.CLASS)
    assert data["total"]["mean"] == 8.3333, "the same numbers as grade report on the same reports"
    theirs = client.get("/v1/report", headers=auth(_key(two))).json()
    assert [s["submission"] for s in theirs["students"]] == ["someone-else"]
    assert client.get("/v1/report").status_code == 401
    assert client.get("/v1/report", headers=auth("not-a-key")).status_code == 401
    assert client.get("/v1/report?format=pdf", headers=auth(_key(one))).status_code == 422


def test_html_with_format_or_accept_and_similarity_from_the_stored_files(served):
    client, service, one, two = served
    for kw in ({"params": {"format": "html"}}, {"headers": {"Accept": "text/html"}}):
        headers = {**auth(_key(one)), **kw.get("headers", {})}
        page = client.get("/v1/report", headers=headers, params=kw.get("params"))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Class report: 6 submissions" in page.text and "someone-else" not in page.text
    data = client.get("/v1/report", headers=auth(_key(one)), params={"similarity": "true"}).json()
    assert data["similarity_settings"]["submissions_with_code"] == 6
    flagged = {frozenset((p["a"], p["b"])) for p in data["similarity"]}
    assert flagged == {frozenset(p) for p in (("s1", "s4"), ("s2", "s5"), ("s3", "s6"))}, "the same files, a comment apart"
    assert all("someone-else" not in (p["a"], p["b"]) for p in data["similarity"])
    anon = client.get("/v1/report", headers=auth(_key(one)), params={"anonymise": "true"}).text
    assert not any(f'"{sid}"' in anon for sid in fx.CLASS)


def test_the_web_process_stays_light(tmp_path):
    """Serving the report, HTML included, imports neither TensorFlow, NumPy nor matplotlib in the service's process."""
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
from tests.test_classreport_service import make_service, grade_as_a_worker, _key
from tests import classreport_fixture as fx
from tests.service.conftest import auth
from pathlib import Path
client, service, one, two = make_service(Path({str(tmp_path / 'data')!r}))
ids = {{}}
for sid in ("s1", "s2"):
    ids[client.post("/v1/submissions", headers=auth(_key(one)), json={{"files": {{"loss.py": "x = 1"}}, "external_id": sid}}).json()["id"]] = fx.report(sid)
grade_as_a_worker(service, ids)
assert client.get("/v1/report", headers=auth(_key(one)), params={{"format": "html", "similarity": "1"}}).status_code == 200
print(json.dumps([m for m in ("tensorflow", "numpy", "matplotlib") if m in sys.modules]))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
