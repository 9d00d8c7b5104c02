"""Mutation analysis of the checks (`grade validate --mutants`): operators, ids, and the targets on a CI sample.

The full run (every mutant; exercises 4 and 5 take minutes) is in docs/mutants.md. CI grades a
fixed, seeded sample: each non-equivalent mutant must be killed, >= 80% of the killed named, and at
most 10% named with a name that does not fit the operator that made the mutant.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from grader import catalog
from grader.mutants.fits import FITS, fitting_names
from grader.mutants.generate import Mutant, generate, mutants_of, sample, stillborn
from grader.mutants.operators import OPERATORS
from grader.mutants.run import _classify, _clip, analyse, meets_targets, render
from grader.report import CheckResult, ExerciseResult

ROOT = Path(__file__).resolve().parent.parent
SEED = 1234
# Mutants per exercise graded in CI (about 0.5 s each for 1-3, several seconds for 4 and 5).
CI_SAMPLE = {1: 16, 2: 16, 3: 16, 4: 2, 5: 2}


def test_ids_are_stable_and_unique_and_the_sample_deterministic():
    ex = catalog.exercise(1)
    first, _ = generate(ex)
    again, _ = generate(ex)
    assert [m.id for m in first] == [m.id for m in again]
    assert len({m.id for m in first}) == len(first) == len({m.code for m in first})
    assert any(m.id.startswith("solution/loss:") and m.id.endswith("/confused_name/reduce_mean>reduce_sum")
               for m in first)
    assert sample(first, 5, SEED, ex.slug) == sample(again, 5, SEED, ex.slug)
    assert sample(first, 5, SEED, ex.slug) != sample(first, 5, SEED + 1, ex.slug)


def test_operators_make_the_beginners_mistakes():
    ex = catalog.exercise(2)
    found, _ = mutants_of(ex, "solution", ex.solution_path.read_text(encoding="utf-8"))
    ops = {m.id.split("/", 2)[2] for m in found}
    assert {"confused_name/assign_sub>assign_add", "recomputed_return/after_update", "statement/drop",
            "statement/twice"} <= ops


def test_a_mutant_that_reads_an_unassigned_name_is_stillborn():
    assert stillborn("def f(x):\n    return y\n", {"f"})
    assert stillborn("def f(x):\n    z = y\n    y = 1\n    return z\n", {"f"})
    assert not stillborn("import numpy as np\ndef f(x):\n    y = [v for v in x]\n    return np.sum(y)\n", {"f"})


def test_the_ci_sample_meets_the_targets():
    print(f"mutants: CI sample {CI_SAMPLE}, seed {SEED}")
    analysis = analyse(catalog.exercises(), CI_SAMPLE, SEED, log=print)
    print(render(analysis))
    for row in analysis["exercises"]:
        assert row["mutants"] == CI_SAMPLE[row["id"]]
        assert meets_targets(row), render(analysis)


def test_a_small_sample_reports_its_share_named_without_failing_and_never_cuts_inside_code():
    row = {"id": 4, "slug": "ex4_perceptron", "mutants": 3, "killed": 1, "named": 0, "wrong_name": 0, "equivalent": 2,
           "survived": 0, "survivors": [], "problems": [], "wrong_names": [], "listed_equivalent_but_killed": [],
           "unnamed": [{"id": "m", "status": "failed", "message": "Your model " + "x" * 130 + " uses `keras.layers."
                        "Dense(1, activation='relu')` here."}]}
    assert meets_targets(row)
    text = render({"exercises": [row]})
    assert "met (0% named, 0% wrong; too few killed to hold to the named target)" in text
    detail = text.splitlines()[-1]
    assert detail.endswith(" …") and detail.count("`") % 2 == 0
    assert not meets_targets({**row, "survived": 1})  # a survivor is a hole, whatever the sample
    assert _clip("short", 160) == "short"


def test_validate_mutants_json_is_one_document_and_the_seed_is_printed():
    run = subprocess.run([sys.executable, "-m", "grader", "validate", "1", "--mutants", "--sample", "3", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    doc = json.loads(run.stdout)
    (row,) = doc["exercises"]
    assert {"id", "mutants", "killed", "named", "wrong_name", "equivalent", "survived", "wrong_names"} <= row.keys()
    assert row["id"] == 1 and row["mutants"] == 3
    assert row["killed"] + row["equivalent"] + row["survived"] == 3
    assert "seed 1234" in run.stderr
    assert run.returncode == (0 if meets_targets(row) else 1)


def test_every_operator_declares_the_names_that_fit_it():
    for name in OPERATORS:
        assert any(key == name or key.startswith(f"{name}/") for key in FITS), f"{name} declares no fitting names"
    assert "sum_instead_of_mean" in fitting_names("confused_name", "reduce_mean>reduce_sum")
    assert "constant_factor" in fitting_names("arith", "Mult>Div")
    assert "wrong_sign" in fitting_names("confused_name", "assign_sub>assign_add")
    assert "wrong_sign" not in fitting_names("confused_name", "reduce_mean>reduce_sum")
    assert "gradients_swapped" in fitting_names("arg_order", "swap")
    assert fitting_names("return", "None") == {"returned_none", "train_returns_none", "nothing_yielded"}


def _graded(mistake: str | None) -> ExerciseResult:
    check = CheckResult(name="c", id="course_example", status="failed", score=0.0, max_score=2.5, mistake=mistake,
                        message="wrong")
    return ExerciseResult(id=1, slug="ex1_loss", title="t", status="failed", score=7.5, max_score=10.0,
                          checks=[check])


def test_a_killed_mutant_named_with_a_name_that_does_not_fit_its_operator_is_counted():
    ex = catalog.exercise(1)
    mutant = Mutant("solution/loss:4:11/confused_name/reduce_mean>reduce_sum", "solution", "loss", "confused_name",
                    "reduce_mean -> reduce_sum", "")
    row = {"mutants": 0, "killed": 0, "named": 0, "wrong_name": 0, "equivalent": 0, "survived": 0, "survivors": [],
           "unnamed": [], "wrong_names": [], "names": {}, "listed_equivalent_but_killed": [], "problems": []}
    _classify(row, ex, mutant, _graded("sum_instead_of_mean"))
    _classify(row, ex, mutant, _graded("wrong_sign"))
    _classify(row, ex, mutant, _graded("constant_factor"))
    assert (row["killed"], row["named"], row["wrong_name"]) == (3, 3, 1)
    assert row["wrong_names"][0]["mistakes"] == ["wrong_sign"]
    assert row["names"][mutant.id] == ["constant_factor"]  # the last grade of this id
    assert not meets_targets(row)  # every killed mutant named, but 1 of 3 wrongly: above the 10% limit
    row["wrong_name"] = 0
    assert meets_targets(row)
