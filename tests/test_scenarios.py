"""Golden scenario tests: every scenario's whole report, and its intent, checked.

Set GRADER_UPDATE_GOLDEN=1 to (re)write expected.json files; review the diff.
"""

from __future__ import annotations

import json
import os

import pytest

from grader import api
from grader.report import Report
from tests.scenario import SEED, Scenario, discover, dump, normalise

SCENARIOS = discover()


@pytest.fixture(scope="module")
def graded() -> dict[str, dict]:
    return {}


def grade(scenario: Scenario) -> dict:
    report = api.grade(scenario.submission, [scenario.exercise], seed=SEED, submission_id=scenario.id)
    Report.model_validate(report.model_dump())  # a valid contract report, whatever the submission did
    return report.model_dump(mode="json")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario(scenario: Scenario) -> None:
    report = grade(scenario)
    (ex,) = report["exercises"]
    assert report["grader_errors"] == 0, "the grader itself failed (see stderr)"

    not_passed = sorted(c["id"] for c in ex["checks"] if c["status"] != "passed")
    assert not_passed == sorted(scenario.fails), f"{scenario.description}: checks not passed {not_passed}"
    earned = sum(c["max_score"] for c in ex["checks"] if c["id"] not in scenario.fails)
    assert ex["score"] == report["score"] == earned
    if scenario.status:
        assert ex["status"] == scenario.status
    if scenario.mistake:
        named = {c["mistake"] for c in ex["checks"] if c["status"] != "passed"}
        assert scenario.mistake in named, f"no failing check names '{scenario.mistake}' (named: {named})"
    for check in ex["checks"]:
        if check["status"] != "passed":
            assert check["message"], f"{check['id']} failed without feedback"
            assert "Traceback" not in check["message"] and "grader/" not in check["message"]

    actual = dump(normalise(report))
    if os.environ.get("GRADER_UPDATE_GOLDEN"):
        scenario.expected_path.write_text(actual)
    assert scenario.expected_path.exists(), "no expected.json: run with GRADER_UPDATE_GOLDEN=1 and review it"
    assert json.loads(actual) == json.loads(scenario.expected_path.read_text())
