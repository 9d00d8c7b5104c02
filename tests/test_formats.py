"""The LMS output formats, rendered from hand-built reports."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader.render import formats
from grader.report import CheckResult, ExerciseResult, Report

SCHEMA = Path(__file__).parent / "schemas" / "gradescope_results.schema.json"


def _check(part: str, status: str, score: float, message: str = "", hint: str = "") -> CheckResult:
    return CheckResult(name=f"The {part} check", id=part, status=status, score=score, max_score=2.5, message=message, hint=hint)


def _report(sid: str, ex1_checks: list[CheckResult], ex3: ExerciseResult | None = None) -> Report:
    ex1 = ExerciseResult(
        id=1, slug="ex1_loss", title="Write the loss", score=sum(c.score for c in ex1_checks), max_score=10.0,
        status="passed" if all(c.status == "passed" for c in ex1_checks) else "failed", checks=ex1_checks, duration_s=2.0,
    )  # fmt: skip
    exercises = [ex1] + ([ex3] if ex3 else [])
    return Report(
        submission=sid, score=sum(e.score for e in exercises), max_score=sum(e.max_score for e in exercises),
        seed=1234, grader_version="0.1.0", duration_s=3.25, exercises=exercises,
    )  # fmt: skip


MISSING_EX3 = ExerciseResult(
    id=3, slug="ex3_two_layer", title="Compute the two-layer output by hand", status="missing", score=0.0,
    max_score=10.0, message="No two_layer.py in your submission.",
)  # fmt: skip


@pytest.fixture
def reports() -> list[Report]:
    full = [_check(p, "passed", 2.5) for p in ("course_example", "random_vectors", "input_types", "differentiable")]
    partial = [
        _check("course_example", "failed", 0.0, "Your loss is 6x too large for 6 samples: did you sum instead of taking the mean?", "Take the mean."),
        _check("random_vectors", "error", 0.0, "Your loss() raised ValueError: shapes differ", "Flatten first."),
        _check("input_types", "passed", 2.5),
        _check("differentiable", "skipped", 0.0, "Skipped: depends on course_example."),
    ]  # fmt: skip
    return [
        _report("alice", full, MISSING_EX3),
        _report("bob", partial, MISSING_EX3),
        _report("=cmd|' /C calc'!A0", partial, MISSING_EX3),
    ]


def test_jsonl_is_one_contract_report_per_line(reports):
    lines = formats.jsonl(reports).splitlines()
    assert len(lines) == 3
    back = [Report.model_validate_json(line) for line in lines]
    assert back == reports
    first = json.loads(lines[0])
    assert {"schema_version", "submission", "score", "max_score", "seed", "grader_version", "duration_s", "exercises"} <= set(first)


def test_csv_gradebook_reads_back(reports):
    text = formats.gradebook_csv(reports)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["submission", "ex1_loss", "ex1_loss status", "ex3_two_layer", "ex3_two_layer status", "total"]
    assert {k: rows[0][k] for k in ("submission", "ex1_loss", "ex3_two_layer", "total")} == \
        {"submission": "alice", "ex1_loss": "10", "ex3_two_layer": "0", "total": "10"}
    assert {k: rows[1][k] for k in ("submission", "ex1_loss", "ex3_two_layer", "total")} == \
        {"submission": "bob", "ex1_loss": "2.5", "ex3_two_layer": "0", "total": "2.5"}
    statuses = {"passed", "failed", "error", "missing", "not_attempted"}
    for row in rows:
        assert row["ex1_loss status"] in statuses and row["ex3_two_layer status"] in statuses
    # a spreadsheet must not run an id as a formula
    assert rows[2]["submission"] == "'=cmd|' /C calc'!A0"
    for row in rows:
        for column in ("ex1_loss", "ex3_two_layer", "total"):
            float(row[column])


def test_csv_leaves_a_cell_empty_for_an_exercise_a_report_lacks(reports):
    only_ex1 = _report("carol", [_check("course_example", "passed", 2.5)])
    rows = list(csv.DictReader(io.StringIO(formats.gradebook_csv([reports[0], only_ex1]))))
    assert rows[1]["ex3_two_layer"] == "" and rows[1]["ex3_two_layer status"] == ""


def _validate(payload: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(payload, json.loads(SCHEMA.read_text()))


def test_gradescope_results_follow_the_spec(reports):
    payload = formats.gradescope(reports[1])
    _validate(payload)
    assert payload["score"] == 2.5
    assert [t["number"] for t in payload["tests"]] == ["1.1", "1.2", "1.3", "1.4", "3"]
    first = payload["tests"][0]
    assert first["status"] == "failed" and first["max_score"] == 2.5 and first["score"] == 0
    assert "6x too large" in first["output"] and "Hint: Take the mean." in first["output"]
    assert payload["tests"][2]["status"] == "passed" and payload["tests"][2]["output"] == ""
    assert payload["tests"][4]["name"].startswith("Exercise 3") and "No two_layer.py" in payload["tests"][4]["output"]
    assert sum(t["max_score"] for t in payload["tests"]) == reports[1].max_score
    assert Report.model_validate(payload["extra_data"]["report"]) == reports[1]
    json.loads(formats.gradescope_json(reports[1]))


@pytest.mark.parametrize("visibility", ["visible", "hidden", "after_due_date", "after_published"])
def test_gradescope_visibility_applies_to_every_test(reports, visibility):
    payload = formats.gradescope(reports[1], visibility=visibility)
    _validate(payload)
    assert {t["visibility"] for t in payload["tests"]} == {visibility}
    assert payload["stdout_visibility"] == "hidden"


def test_gradescope_feedback_levels_hide_hidden_check_messages(reports):
    hint_only = formats.gradescope(reports[1], feedback="hint")
    _validate(hint_only)
    assert "6x too large" not in json.dumps(hint_only["tests"])
    assert hint_only["tests"][0]["output"] == "Hint: Take the mean."
    nothing = formats.gradescope(reports[1], feedback="none")
    _validate(nothing)
    assert {t["output"] for t in nothing["tests"]} == {""}
    assert [t["score"] for t in nothing["tests"]] == [t["score"] for t in hint_only["tests"]]


def test_junit_has_a_testcase_per_check(reports):
    root = ET.fromstring(formats.junit(reports))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites[:2]] == ["alice/ex1_loss", "alice/ex3_two_layer"]
    bob = next(s for s in suites if s.get("name") == "bob/ex1_loss")
    cases = bob.findall("testcase")
    assert [c.get("name") for c in cases] == [f"The {p} check" for p in ("course_example", "random_vectors", "input_types", "differentiable")]
    assert cases[0].find("failure") is not None and "6x too large" in cases[0].find("failure").get("message")
    assert cases[1].find("error") is not None
    assert cases[2].find("failure") is None and cases[2].find("error") is None
    assert cases[3].find("skipped") is not None
    assert (bob.get("tests"), bob.get("failures"), bob.get("errors"), bob.get("skipped")) == ("4", "1", "1", "1")
    missing = next(s for s in suites if s.get("name") == "bob/ex3_two_layer")
    assert missing.find("testcase").find("failure") is not None
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites)
    assert int(root.get("failures")) == sum(int(s.get("failures")) for s in suites)


def test_renderers_are_pure(reports):
    assert formats.junit(reports) == formats.junit(reports)
    assert formats.gradebook_csv(reports) == formats.gradebook_csv(reports)
    assert formats.gradescope_json(reports[0]) == formats.gradescope_json(reports[0])
