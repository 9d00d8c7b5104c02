"""The command line takes what a student naturally types: one student file, and a hint level out of range."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from grader.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _invoke(args: list[str]):
    result = CliRunner().invoke(app, args)
    assert "Traceback" not in result.output + result.stderr, result.output + result.stderr
    return result


def test_a_single_student_file_is_a_submission(tmp_path):
    shutil.copyfile(ROOT / "solutions" / "ex1_loss" / "loss.py", tmp_path / "loss.py")
    (tmp_path / "two_layer.py").write_text("raise SystemExit('never graded: not part of the submission')\n")
    result = _invoke(["exercise", "all", "--submission", str(tmp_path / "loss.py"), "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 1, result.stderr  # the other exercises are missing
    assert {ex["slug"]: ex["status"] for ex in report["exercises"]} == {
        "ex1_loss": "passed", "ex2_train_step": "missing", "ex3_two_layer": "missing", "ex4_perceptron": "missing",
        "ex5_quantize": "missing"}


def test_a_single_file_of_another_name_is_a_usage_error_naming_the_names(tmp_path):
    (tmp_path / "my_loss.py").write_text("def loss(p, t):\n    return 0\n")
    result = _invoke(["exercise", "1", "--submission", str(tmp_path / "my_loss.py")])
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "loss.py, train_step.py" in result.stderr


def test_a_hint_level_out_of_range_is_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for level in ("0", "-1", "99"):
        result = _invoke(["hint", "1", "--level", level])
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr.strip() == "grade: exercise 1 has 3 hints; --level must be 1 to 3"
