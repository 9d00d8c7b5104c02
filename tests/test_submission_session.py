"""All of a submission's exercises are judged in one pytest session, each as if alone.

A runner that never gets ready (a syntax error) skips its exercise's checks, before
and after one that runs; every exercise's result equals its golden single-exercise one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from grader import api, catalog
from tests.scenario import SCENARIOS, SEED, normalise


def golden(scenario: str) -> dict:
    (ex,) = json.loads((SCENARIOS / scenario / "expected.json").read_text())["exercises"]
    return ex


def test_each_exercise_of_one_session_is_judged_as_if_alone(tmp_path: Path) -> None:
    broken = SCENARIOS / "ex1_loss" / "syntax_error" / "submission" / "loss.py"
    shutil.copy(broken, tmp_path / "loss.py")
    shutil.copy(catalog.solutions_dir() / "ex3_two_layer" / "two_layer.py", tmp_path / "two_layer.py")
    shutil.copy(broken, tmp_path / "train_step.py")  # the same syntax error, in the last module

    report = normalise(api.grade(tmp_path, [1, 3, 2, 4], seed=SEED, submission_id="s").model_dump(mode="json"))

    assert report["grader_errors"] == 0
    ex1, ex3, ex2, ex4 = report["exercises"]
    assert ex1 == golden("ex1_loss/syntax_error")
    assert ex3 == golden("ex3_two_layer/solution")
    assert ex2["status"] == "error" and all(c["status"] == "error" for c in ex2["checks"])
    assert "train_step.py" in ex2["message"]
    assert ex4["status"] == "missing"
