"""The `grade` command as students, instructors and pipelines use it: exit codes, JSON purity, hints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader import catalog
from grader.cli import app
from grader.workspace import MARKER
from grader.report import Report

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "scenarios" / "ex1_loss"


def grade(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_json_report_of_the_solution_is_pure_and_full_marks():
    run = grade("exercise", "1", "--submission", "solutions", "--json")
    assert run.returncode == 0, run.stderr
    report = Report.model_validate(json.loads(run.stdout))  # stdout is exactly one JSON document
    assert (report.score, report.max_score) == (10.0, 10.0)
    assert report.exercises[0].status == "passed"


def test_a_forged_report_on_stdout_earns_nothing():
    run = grade("exercise", "1", "--submission", str(SCENARIOS / "forged_report" / "submission"), "--json")
    assert run.returncode == 1
    report = Report.model_validate(json.loads(run.stdout))
    assert report.score == 0 and report.exercises[0].status == "not_attempted"
    assert '"score": 50.0' not in run.stdout
    assert '"score": 50.0' in report.exercises[0].output  # shown to the student as their output, nothing more


def test_text_report_marks_each_check_and_totals():
    run = grade("exercise", "1", "--submission", str(SCENARIOS / "sum_instead_of_mean" / "submission"))
    assert run.returncode == 1
    assert "✓ Returns a rank-0 float tensor" in run.stdout
    assert "✗ The course example" in run.stdout
    assert "known mistake (sum instead of mean)" in run.stdout
    assert "Total: 2.5/10" in run.stdout


@pytest.mark.parametrize("args", [["exercise", "9"], ["exercise", "banana"], ["hint", "0"],
                                  ["exercise", "1", "--submission", "/no/such/dir"]])
def test_usage_errors_exit_2_with_a_message_and_no_stdout(args):
    run = grade(*args)
    assert run.returncode == 2
    assert run.stdout == ""
    assert "grade:" in run.stderr and "Traceback" not in run.stderr


def test_hints_are_progressive_and_remembered(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / MARKER).write_text("")  # a workspace: its state is kept here
    hints = catalog.exercise(1).hints
    runner = CliRunner()
    first = runner.invoke(app, ["hint", "1"])
    second = runner.invoke(app, ["hint", "1"])
    assert first.exit_code == second.exit_code == 0
    assert hints[0] in first.output and f"hint 1 of {len(hints)}" in first.output
    assert hints[1] in second.output and hints[0] not in second.output
    chosen = runner.invoke(app, ["hint", "1", "--level", str(len(hints))])
    assert hints[-1] in chosen.output and "last hint" in chosen.output
    beyond = runner.invoke(app, ["hint", "1", "--level", str(len(hints) + 1)])
    assert beyond.exit_code == 2


def test_list_shows_every_exercise_and_the_last_result(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / MARKER).write_text("")
    (tmp_path / ".grader").mkdir()
    (tmp_path / ".grader" / "state.json").write_text(json.dumps(
        {"results": {"ex1_loss": {"score": 7.5, "max_score": 10.0, "status": "failed", "when": "2026-11-22T10:00:00+00:00"}}}))
    out = CliRunner().invoke(app, ["list"])
    assert out.exit_code == 0
    for ex in catalog.exercises():
        assert ex.title[:30] in out.output
    assert "7.5/10 failed" in out.output


@pytest.mark.parametrize("layout", ["workspace", "checkout"])
def test_hint_progress_follows_the_work_not_the_current_folder(layout, tmp_path, monkeypatch):
    if layout == "workspace":
        (tmp_path / MARKER).write_text("")
    else:  # a clone of the course: found by its exercises/course.toml
        (tmp_path / "exercises").mkdir()
        (tmp_path / "exercises" / "course.toml").write_text("")
    (tmp_path / "ex1_loss" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "ex1_loss" / "deeper")
    assert "hint 1 of" in CliRunner().invoke(app, ["hint", "1"]).output
    monkeypatch.chdir(tmp_path)
    assert "hint 2 of" in CliRunner().invoke(app, ["hint", "1"]).output
    assert json.loads((tmp_path / ".grader" / "state.json").read_text())["hints"] == {"ex1_loss": 2}
    assert not (tmp_path / "ex1_loss" / "deeper" / ".grader").exists()


def test_schema_is_the_report_models_json_schema():
    out = CliRunner().invoke(app, ["schema"])
    assert out.exit_code == 0
    assert json.loads(out.output) == Report.model_json_schema()


def test_a_grader_failure_exits_3(monkeypatch):
    from grader import api

    def broken(*a, **k):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(api.Grader, "grade", broken)  # the CLI grades through a Grader
    out = CliRunner().invoke(app, ["exercise", "1", "--submission", str(ROOT / "solutions")])
    assert out.exit_code == 3


@pytest.mark.parametrize("args", [["hint", "1"], ["list"], ["--help"], ["schema"]])
def test_commands_that_grade_nothing_do_not_import_tensorflow(args, tmp_path):
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom grader.cli import app\n"
            f"r = CliRunner().invoke(app, {args!r})\nassert r.exit_code == 0, r.output\n"
            "heavy = [m for m in ('tensorflow', 'keras', 'numpy', 'pytest') if m in sys.modules]\n"
            "print(','.join(heavy))")
    (tmp_path / MARKER).write_text("")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "", f"`grade {' '.join(args)}` imported {run.stdout.strip()}"


def test_validate_passes_on_the_repository():
    run = grade("validate")
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
