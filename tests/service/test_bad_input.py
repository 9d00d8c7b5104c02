"""Bad input to the HTTP API, in process: each answer is the contract's status and `{"error": {"code", "message"}}`.

Nothing here is graded (the app runs without its lifespan), so these take milliseconds.
"""

from __future__ import annotations

import pytest

from tests.service.conftest import SOLUTION, auth
from tests.service.test_api import _error

FILES = {"files": {"loss.py": SOLUTION}, "exercises": [1]}


@pytest.mark.parametrize("field", [{"exercises": [True]}, {"exercises": ["1"]}, {"exercises": [1.0]},
                                   {"seed": "12"}, {"seed": True}])  # fmt: skip
def test_numbers_are_numbers(api, field):
    client, _, one, _ = api
    error = _error(client.post("/v1/submissions", json={**FILES, **field}, headers=auth(one.key)), 422, "invalid")
    assert next(iter(field)) in error["message"]


@pytest.mark.parametrize("seed", [-1, 2**63])
def test_a_seed_the_grader_cannot_take_is_refused_not_failed_later(api, seed):
    client, _, one, _ = api
    error = _error(client.post("/v1/submissions", json={**FILES, "seed": seed}, headers=auth(one.key)), 422, "invalid")
    assert "non-negative" in error["message"]


def test_a_body_that_is_not_json_says_what_to_send(api):
    client, _, one, _ = api
    error = _error(client.post("/v1/submissions", content=b'{"files": {"loss.py": "x"}}',
                               headers={**auth(one.key), "Content-Type": "text/plain"}), 400, "malformed_body")
    assert "Content-Type: application/json" in error["message"]
    error = _error(client.post("/v1/submissions", headers={**auth(one.key), "Content-Type": "application/json"}),
                   400, "malformed_body")
    assert "empty" in error["message"]


def test_another_scheme_than_bearer_is_told_to_use_bearer(api):
    client, _, one, _ = api
    error = _error(client.get("/v1/exercises", headers={"Authorization": f"Basic {one.key}"}), 401, "unauthorized")
    assert "Bearer" in error["message"]


@pytest.mark.parametrize("raw", [
    b'{"files": {"loss.py": "x"}, "metadata": {"a": NaN}}',
    b'{"files": {"loss.py": "x"}, "metadata": {"a": Infinity}}',
    b'{"files": {"loss.py": "x\\ud800"}, "exercises": [1]}',
    b'{"files": {"loss\\ud800.py": "x", "loss.py": "y"}, "exercises": [1]}',
    b'{"files": {"loss.py": "x"}, "metadata": {"a": "\\udfff"}}',
    b'{"files": {"loss.py": "x"}, "external_id": "u\\ud800"}',
], ids=["nan", "infinity", "surrogate_in_source", "surrogate_in_name", "surrogate_in_metadata",
        "surrogate_in_external_id"])  # fmt: skip
def test_json_python_reads_but_cannot_store_or_answer_is_refused(api, raw):
    client, service, one, _ = api
    r = client.post("/v1/submissions", content=raw, headers={**auth(one.key), "Content-Type": "application/json"})
    _error(r, 422, "invalid")
    assert service.store.counts()["queued"] == 0


@pytest.mark.parametrize("raw", [b'{"files": {"loss.py": "\xff"}}', b'{"metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"],
                         ids=["not_utf8", "nested_too_deep"])
def test_a_body_json_cannot_parse_is_malformed_json(api, raw):
    client, _, one, _ = api
    r = client.post("/v1/submissions", content=raw, headers={**auth(one.key), "Content-Type": "application/json"})
    _error(r, 400, "malformed_json")
