"""`check()` and `hint()` in a real Jupyter kernel (nbclient + ipykernel), on the shipped exercise notebook.

The notebook is exercise 3's, as a student opens it: its setup cell, the README, the stub, and
`check(3)`. Cells are then added as a student would: a correct solution, a wrong one, a
function that uses a value computed in the notebook, hints. One kernel runs them all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
EX3 = ROOT / "exercises" / "ex3_two_layer" / "ex3_two_layer.ipynb"
SOLUTION = (ROOT / "solutions" / "ex3_two_layer" / "two_layer.py").read_text()
FORGOT_BIASES = '''
def dense(inputs, weights):
    return np.asarray(inputs, dtype=float) @ weights[0]

def two_layer_output(layer_1_weights, layer_2_weights, x):
    return float(dense(dense([x], layer_1_weights), layer_2_weights)[0])
'''
MISSPELT = '''offset = np.zeros(1)
def network_output(layer_weights, x, hidden_activation=None):
    values = np.asarray(x, dtype=float) + offset[0]
    for kernel, bias in layer_weights:
        values = values @ kernel + bias
    return valeus'''
REPORT = "import json\nprint('REPORT', json.dumps(_.report))"


def added(source: str):
    return nbformat.v4.new_code_cell(source)


def outputs(cell) -> tuple[str, str]:
    """The cell's HTML display and its printed text."""
    html = "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs
                   if o.output_type in ("execute_result", "display_data"))
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert not errors, "\n".join(errors[0].traceback)
    return html, text


def report_of(cell) -> dict:
    (line,) = [line for line in outputs(cell)[1].splitlines() if line.startswith("REPORT ")]
    return json.loads(line.removeprefix("REPORT "))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    work = tmp_path_factory.mktemp("kernel")
    (work / "tinyml-workspace.toml").write_text("")  # a `grade init` workspace: hint progress is kept in it
    nb = nbformat.read(EX3, as_version=4)
    shipped = len(nb.cells)
    nb.cells += [
        added(REPORT),
        added(SOLUTION.split('"""', 2)[2] + "\ncheck(3)"),  # the reference, without its module docstring
        added(REPORT),
        added("import time\nstarted = time.perf_counter()\nresult = check(3)\n"
              "print('SECOND', time.perf_counter() - started)\nresult"),
        added(FORGOT_BIASES + "\ncheck(3)"),
        added(REPORT),
        added("W, unused = np.ones((1, 2)), None\ndef network_output(layer_weights, x, hidden_activation=None):\n"
              "    return np.asarray(x) @ W\ncheck(3)"),
        added("hint(3)"),
        added("hint(3)"),
        added(MISSPELT + "\ncheck(3)"),
        added(REPORT),
    ]
    import os

    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), saved]))  # this checkout's grader
    try:
        nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(work)}}).execute()
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = saved
    return nb.cells[shipped - 1 :], work


def test_the_untouched_notebook_is_not_attempted(executed):
    cells, _ = executed
    html, _ = outputs(cells[0])
    assert html.count('class="tinyml-grader-card"') == 1  # one display per call
    assert "Not attempted" in html and "still raise NotImplementedError" in html
    report = report_of(cells[1])
    assert report["exercises"][0]["status"] == "not_attempted" and report["score"] == 0


def test_a_correct_solution_passes_and_a_second_check_is_warm(executed):
    cells, _ = executed
    html, _ = outputs(cells[2])
    assert "Correct" in html and "10 / 10" in html and "Graded runs use other hidden" in html
    assert report_of(cells[3])["score"] == 10.0
    _, printed = outputs(cells[4])
    seconds = float(re.search(r"SECOND ([0-9.]+)", printed).group(1))
    assert seconds < 10  # the warm helper answered (the target, <= 1 s, is measured by bench/notebook.py)


def test_a_wrong_solution_shows_the_named_mistake(executed):
    cells, _ = executed
    html, _ = outputs(cells[5])
    report = report_of(cells[6])
    (ex,) = report["exercises"]
    assert ex["status"] == "failed" and 0 < report["score"] < 10
    named = [c for c in ex["checks"] if c["mistake"]]
    assert named and "Known mistake:</b> " + named[0]["mistake"].replace("_", " ") in html
    assert "Not yet" in html and "Idea to revisit:" in html


def test_a_global_computed_in_the_notebook_is_named(executed):
    cells, _ = executed
    html, _ = outputs(cells[7])
    assert "`W` (of type numpy.ndarray): a value computed in this notebook" in html


def test_hints_advance_and_fold_the_earlier_ones(executed):
    cells, work = executed
    first, _ = outputs(cells[8])
    second, _ = outputs(cells[9])
    assert "Hint 1 of" in first and "<details" not in first
    assert "<summary>Hint 1 of" in second and "<b>Hint 2 of" in second
    state = json.loads((work / ".grader" / "state.json").read_text())  # the same progress as `grade hint`
    # the last check(3) recorded: the misspelt name's (two_layer_output right, network_output raising)
    assert state["hints"]["ex3_two_layer"] == 2 and state["results"]["ex3_two_layer"]["status"] == "failed"


def test_an_error_names_the_cell_it_was_written_in_and_an_assignment_used_is_graded(executed):
    cells, _ = executed
    (ex,) = report_of(cells[11])["exercises"]
    errors = [c for c in ex["checks"] if c["status"] == "error"]
    assert errors and all(re.search(r"\(cell In \[\d+\], line 6: `return valeus`\)", c["message"]) for c in errors)
    assert "offset" not in ex["message"]  # `offset = np.zeros(1)` was written into the graded file, not refused
