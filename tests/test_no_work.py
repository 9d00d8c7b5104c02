"""No point for no work: every exercise has no-op scenarios, and they fail every check.

The scenarios themselves are graded by test_scenarios.py; this checks that they exist and
that their intent is "every check fails", without grading anything.
"""

from __future__ import annotations

import re

import pytest

from grader import catalog
from tests.scenario import SCENARIOS, load

NO_OPS = ("noop_none", "noop_identity", "noop_zeros")


@pytest.mark.parametrize("ex", catalog.exercises(), ids=lambda ex: ex.slug)
def test_no_op_scenarios_fail_every_check(ex) -> None:
    parts = sorted(part.id for part in ex.parts)
    for name in NO_OPS:
        path = SCENARIOS / ex.slug / name
        assert (path / "scenario.toml").is_file(), f"{ex.slug}: no {name} scenario"
        assert sorted(load(path).fails) == parts, f"{ex.slug}/{name} must fail every check"


def test_ex4_states_the_accuracy_threshold_it_applies() -> None:
    ex = catalog.exercise(4)
    (training,) = [part for part in ex.parts if part.id == "training"]
    shown = re.findall(r"(\d+)%", training.title)
    assert shown == [f"{ex.tolerances['min_accuracy']:.0%}".rstrip("%")]
