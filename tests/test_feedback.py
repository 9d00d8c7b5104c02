"""Feedback that teaches (issue 21, item 6): hints lead, messages name what the student wrote, errors are alike.

Most read the golden reports, which test_scenarios.py holds to the real grader's output.
"""

from __future__ import annotations

import json
import re

from grader import catalog
from grader.judge import python_ideas
from tests.scenario import SCENARIOS

# The network written out: a layer's update (`values = values @ kernel + bias`), a neuron's sum
# (`kernel_1[0][j] * x + bias_1[j]`), ReLU's line (`np.maximum(values, 0)`).
CODE = re.compile(r"values *=|@ *kernel *\+ *bias|\w+\[\d\]\[\w\] *\* *x|np\.maximum\(values")


def _report(path: str) -> dict:
    return json.loads((SCENARIOS / path / "expected.json").read_text())


def _messages(exercise_slug: str) -> list[str]:
    return [c["message"] for p in sorted((SCENARIOS / exercise_slug).glob("*/expected.json"))
            for ex in json.loads(p.read_text())["exercises"] for c in ex["checks"]]


def test_exercise_3_hints_lead_and_never_hand_over_code():
    ex = catalog.exercise(3)
    for text in [*ex.hints, *(p.hint for p in ex.parts)]:
        assert not CODE.search(text), text


def test_exercise_3_messages_never_spell_out_the_network_formula():
    messages = _messages("ex3_two_layer")
    assert any("Trace the network on paper" in m for m in messages)  # the weight_misused scenario's lead
    for m in messages:
        assert not CODE.search(m), m


def test_one_name_error_is_one_kind_of_outcome_with_pythons_idea_to_revisit():
    for path in ("ex1_loss/name_error", "ex3_two_layer/notebook_name_error"):
        checks = [c for c in _report(path)["exercises"][0]["checks"] if c["status"] != "passed"]
        assert {c["status"] for c in checks} == {"error"}
        assert {c["hint"] for c in checks} == {python_ideas.idea("NameError")}
        assert all("NameError" in c["message"] for c in checks)


def test_a_notebooks_error_names_its_cell_and_line_not_the_built_file():
    (ex,) = _report("ex3_two_layer/notebook_name_error")["exercises"]
    messages = [c["message"] for c in ex["checks"] if c["status"] == "error"]
    assert messages and all("(cell 4, line 7: `return valeus`)" in m and "two_layer.py" not in m for m in messages)


def test_messages_read_as_english_while_running_a_function():
    messages = [m for slug in ("ex1_loss", "ex2_train_step", "ex3_two_layer") for m in _messages(slug)]
    assert any("while running loss()" in m for m in messages)
    assert not [m for m in messages if re.search(r"while [\w.]+\(", m)]


def test_an_error_at_import_gets_pythons_idea_on_every_check():
    for path, kind in (("ex1_loss/import_error", "ModuleNotFoundError"), ("ex1_loss/syntax_error", "SyntaxError")):
        checks = _report(path)["exercises"][0]["checks"]
        assert {c["hint"] for c in checks} == {python_ideas.idea(kind)}, path
