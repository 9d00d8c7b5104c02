"""Every golden scenario's student file, split into notebook cells, grades as the file does.

The `.py` side is each scenario's expected.json (test_scenarios.py holds it to the real
report); here the same code as a notebook, one cell per top-level statement, must earn the
same status and score on every check. The allowed differences: code a notebook never runs
(top-level statements outside imports, definitions and the assignments the functions use),
which the report's notes must then name (an `os._exit()` at import ends a .py, never a
notebook), and a notebook that defines none of the functions, which is missing.

Exercises 1-3 grade in a fraction of a second: every notebook is graded. A notebook of
exercises 4 and 5 (seconds of Keras and TFLite each) is graded when the file built from it
is another program than the `.py`; when it holds exactly the `.py`'s statements (fewer unused
definitions and imports, no top-level code left out, assignments and imports in the same
order), the same program under the same seed gives the same report, and that is checked.
"""

from __future__ import annotations

import ast
import json

import pytest

from grader import api, catalog
from grader.notebook import extract
from grader.notebook.submission import student_file
from tests.notebooks import cells_of, notebook
from tests.scenario import SEED, Scenario, discover


def _student_py(scenario: Scenario):
    ex = catalog.exercise(scenario.exercise)
    for path in (scenario.submission / ex.slug / ex.file, scenario.submission / ex.file):
        if path.is_file():
            return path
    return None


SCENARIOS = [s for s in discover() if _student_py(s) is not None]


@pytest.fixture(scope="module")
def grader():
    with api.Grader() as g:
        yield g


def _verdict(report: dict) -> tuple:
    (ex,) = report["exercises"]
    return ex["status"], ex["score"], [(c["id"], c["status"], c["score"]) for c in ex["checks"]]


def _statements(source: str) -> list[ast.stmt]:
    body = ast.parse(source).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the module docstring (the built file's is the grader's own)
    return body


def _same_program(py: str, built: str) -> bool:
    """The built file is the .py's own statements, fewer unused ones, with what runs at import in the same order."""
    try:
        mine = _statements(py)
    except SyntaxError:
        return False
    theirs = _statements(built)
    dumps = [ast.dump(s) for s in mine]
    if not all(ast.dump(s) in dumps for s in theirs):
        return False
    runs_at_import = [ast.dump(s) for s in theirs if not isinstance(s, (ast.FunctionDef, ast.ClassDef))]
    return runs_at_import == [d for d in dumps if d in runs_at_import]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_a_scenario_as_a_notebook_grades_as_its_file(grader, scenario, tmp_path):
    source = _student_py(scenario).read_text(encoding="utf-8", errors="replace")
    cells = cells_of(source)
    expected = json.loads(scenario.expected_path.read_text())
    scanned = extract.scan(list(enumerate(cells, 1)))
    built = student_file(catalog.exercise(scenario.exercise), scanned, "work.ipynb")
    left_out = scanned.describe_left_out(built.graded) if built is not None else ""
    if scenario.exercise >= 4 and built is not None and not left_out and _same_program(source, built.source):
        return
    work = tmp_path / "work.ipynb"
    work.write_text(notebook(cells), encoding="utf-8")
    report = grader.grade(work, [scenario.exercise], seed=SEED, submission_id=scenario.id).model_dump(mode="json")
    if built is None:  # no function of the exercise in it: missing, and the .py earned nothing either
        assert report["exercises"][0]["status"] == "missing" and expected["score"] == 0
        return
    if left_out:
        assert any(left_out in note for note in report["environment"]["notes"]), report["environment"]["notes"]
        return
    assert _verdict(report) == _verdict(expected)
