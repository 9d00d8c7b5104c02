"""A job message whose fields the grader cannot take (a forged or corrupted message in Redis) is
answered `bad_message` at once: it never reaches, ends and restarts the warm pool worker."""

from __future__ import annotations

import base64
import json

import pytest

from grader.worker import tasks


@pytest.mark.parametrize("fields", [{"seed": -1}, {"seed": "abc"}, {"seed": True}, {"seed": 2**63},
                                    {"exercises": [9]}, {"exercises": "1"}, {"exercises": []}, {"timeout_s": "nan"},
                                    {"id": 7}, {"id": ""}])  # fmt: skip
def test_a_message_with_fields_the_grader_cannot_take_is_a_bad_message_error(fields, monkeypatch):
    monkeypatch.setattr(tasks, "_start_slot", lambda: pytest.fail("a pool worker was started for a bad message"))
    message = {"id": "s1", "kind": "files", "data": base64.b64encode(json.dumps({"loss.py": ""}).encode()).decode(),
               "exercises": [1], "seed": 1234, "timeout_s": 60, **fields}
    answer = tasks.grade_payload(message, attempts=1)
    assert answer["attempts"] == 1 and answer["error"]["code"] == "bad_message", answer
    assert next(iter(fields)) in answer["error"]["message"]
