""".ipynb submissions: the same code graded from a notebook and from a .py gives the same report;
`grade exercise --submission work.ipynb`, `grade batch` over notebooks (the service: tests/service)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader import api
from tests.scenario import SCENARIOS, normalise

ROOT = Path(__file__).resolve().parent.parent


def notebook(*cells: tuple[str, str]) -> str:
    return json.dumps({"cells": [{"cell_type": kind, "metadata": {}, "source": source,
                                  **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                                 for kind, source in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def as_notebook(py: Path) -> str:
    """A .py student file as a notebook a student might keep: imports, one cell per definition, noise around them."""
    source = py.read_text()
    tree = ast.parse(source)
    lines = source.splitlines()
    imports = [ast.get_source_segment(source, n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    definitions = ["\n".join(lines[n.lineno - 1 : n.end_lineno]) for n in tree.body
                   if not isinstance(n, (ast.Import, ast.ImportFrom))]
    return notebook(("markdown", "# My work"), ("code", "!pip install -q tensorflow\n" + "\n".join(imports)),
                    *(("code", d) for d in definitions),
                    ("code", "import os\nprint('training...')\nos._exit(1)"), ("code", "check(1)"))


def comparable(report: dict) -> dict:
    out = normalise(report)
    out.pop("submission")
    return out


@pytest.fixture(scope="module")
def grader():
    with api.Grader() as g:
        yield g


@pytest.mark.parametrize("scenario", ["ex1_loss/sum_instead_of_mean", "ex2_train_step/wrong_sign",
                                      "ex3_two_layer/biases_forgotten"])
def test_a_notebook_and_a_py_with_the_same_code_give_the_same_report(grader, tmp_path, scenario):
    py_dir = SCENARIOS / scenario / "submission"
    (py,) = py_dir.glob("*.py")
    work = tmp_path / "work.ipynb"
    work.write_text(as_notebook(py))
    exercise = int(scenario[2])
    from_py = grader.grade(py_dir, [exercise], seed=1234).model_dump(mode="json")
    from_notebook = grader.grade(work, [exercise], seed=1234).model_dump(mode="json")
    assert comparable(from_notebook) == comparable(from_py)
    assert from_notebook["score"] < from_notebook["max_score"]  # a failing submission: the feedback compared too
    notes = from_notebook["environment"]["notes"]
    assert any(n.startswith("work.ipynb: cells 2 (in part: shell and magic lines)") and "top-level code" in n
               for n in notes), notes


def test_grade_exercise_with_a_notebook_reports_the_cells_left_out():
    work = SCENARIOS / "ex1_loss" / "notebook_training_code" / "submission" / "work.ipynb"
    run = subprocess.run([sys.executable, "-m", "grader", "exercise", "1", "--submission", str(work), "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["exercises"][0]["status"] == "passed"
    assert report["environment"]["notes"] == [
        "work.ipynb: cells 2 (in part: shell and magic lines), 4 (top-level code) not run; "
        "only a notebook's imports, definitions and constants, and the top-level assignments its functions use, "
        "are graded"]


def test_grade_batch_over_a_folder_of_notebooks(tmp_path):
    solution = (SCENARIOS / "ex1_loss" / "notebook_solution" / "submission" / "work.ipynb").read_text()
    mistake = (SCENARIOS / "ex1_loss" / "notebook_mistake" / "submission" / "work.ipynb").read_text()
    subs = tmp_path / "subs"
    (subs / "bob" / "ex1_loss").mkdir(parents=True)
    (subs / "alice.ipynb").write_text(solution)  # one notebook per student
    (subs / "bob" / "ex1_loss" / "ex1_loss.ipynb").write_text(mistake)  # one per exercise in a student's folder
    (subs / "bob" / "ex2_train_step.ipynb").write_text(solution)  # exercise 2's notebook: not searched for loss
    (subs / "carol.ipynb").write_text(solution[:100])
    run = subprocess.run([sys.executable, "-m", "grader", "batch", str(subs), "--out", str(tmp_path / "out.jsonl"),
                          "--exercise", "1", "--jobs", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    reports = {r["submission"]: r for r in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
    assert {sid: r["exercises"][0]["status"] for sid, r in reports.items()} == \
        {"alice": "passed", "bob": "failed", "carol": "error"}
    assert "not a valid notebook" in reports["carol"]["exercises"][0]["message"]
