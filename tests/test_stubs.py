"""Pristine stubs: an instructor's solved copy is named, never graded as "the stub" or shipped to Gradescope."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import catalog
from grader.stubs import is_pristine_stub

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("ex", catalog.exercises(), ids=lambda e: e.slug)
def test_the_shipped_stubs_are_stubs_and_the_solutions_are_not(ex):
    assert is_pristine_stub(ex)
    assert not is_pristine_stub(ex, ex.solution_path)


def test_one_solved_function_makes_a_stub_edited(tmp_path):
    ex = catalog.exercise(2)
    text = ex.stub_path.read_text()
    edited = tmp_path / ex.file
    edited.write_text(text.replace('raise NotImplementedError("fit is not written yet")',
                                   "return [float(train(model, xs, ys, learning_rate)) for _ in range(epochs)]"))
    assert edited.read_text() != text
    assert not is_pristine_stub(ex, edited)
    (tmp_path / "broken.py").write_text("def train(:\n")
    assert not is_pristine_stub(ex, tmp_path / "broken.py")


def _copy_of_the_repository(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", ".grader", "tests"))
    return copy


def test_the_gradescope_bundle_refuses_an_edited_stub_and_names_it(tmp_path):
    copy = _copy_of_the_repository(tmp_path)
    stub = copy / "exercises" / "ex1_loss" / "loss.py"
    shutil.copy(copy / "solutions" / "ex1_loss" / "loss.py", stub)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([sys.executable, "-m", "grader", "gradescope-bundle", "--out", str(tmp_path / "ag.zip")],
                         cwd=copy, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert "exercises/ex1_loss/loss.py is not the stub (edited?)" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "ag.zip").exists()


def test_validate_names_an_edited_stub_instead_of_saying_the_stub_scores(tmp_path):
    copy = _copy_of_the_repository(tmp_path)
    shutil.copy(copy / "solutions" / "ex1_loss" / "loss.py", copy / "exercises" / "ex1_loss" / "loss.py")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([sys.executable, "-m", "grader", "validate", "1"], cwd=copy, env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "✗ exercises/ex1_loss/loss.py is not the stub (edited?)" in run.stdout
    assert "the stub scores" not in run.stdout
