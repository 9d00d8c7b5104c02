"""The families of mistakes (grader/judge/families.py): each relation names what it should, and only that."""

from __future__ import annotations

import numpy as np
import pytest

from grader.judge import families
from grader.judge.feedback import Mistake


def named(got, expected) -> str | None:
    try:
        families.name_family(got, expected, "your result", "(context)")
    except Mistake as m:
        assert m.message.startswith("Your result is") and m.message.endswith("(context)")
        return m.name
    return None


def test_a_constant_factor_says_which():
    e = np.array([1.5, -2.0, 3.25])
    assert named(2 * e, e) == "constant_factor"
    with pytest.raises(Mistake, match="2× the expected"):
        families.name_family(2 * e, e, "your result", "")
    with pytest.raises(Mistake, match="half"):
        families.name_family(e / 2, e, "your result", "")
    assert families.factor_words(1 / 6) == "1/6 (0.167×)"
    # Any array scaled by any number is in the family; a single number only by a simple fraction.
    assert named(1.2345 * e, e) == "constant_factor"
    assert named(np.float64(12.0), np.float64(4.0)) == "constant_factor"
    assert named(np.float64(4.0 * 1.2345), np.float64(4.0)) is None


def test_a_sign_flip_is_its_own_family():
    e = np.array([0.5, -1.0, 2.0])
    assert named(-e, e) == "sign_flipped"
    assert named(-3.0, 3.0) == "sign_flipped"


def test_right_answers_and_unrelated_ones_name_nothing():
    e = np.array([0.5, -1.0, 2.0])
    assert named(e, e) is None
    assert named(e + 1, e) is None
    assert named(np.zeros(3), e) is None
    assert named(np.array([2.0, 1.0, -1.0]), e) is None


def test_a_shape_collapsed_by_a_reduction():
    e = np.array([0.5, -1.0, 2.0, 4.0])
    assert named(np.array([e.sum()]), e) == "collapsed_by_reduction"
    assert named(e.mean(), e) == "collapsed_by_reduction"
    assert named(np.full(4, e.mean()), e) == "collapsed_by_reduction"
    assert named(np.full(4, 0.7), e) is None
    assert named(np.array([0.123]), e) is None


def test_swaps():
    assert families.swapped([2.0, 1.0, 3.0], [1.0, 2.0, 3.0]) == (0, 1)
    assert families.swapped([2.0, 1.0, 4.0], [1.0, 2.0, 3.0]) is None
    with pytest.raises(Mistake, match="model.w got what model.b should") as m:
        families.name_swap([0.2, 0.1], [0.1, 0.2], ["model.w", "model.b"], "the steps", "", family="gradients_swapped")
    assert m.value.name == "gradients_swapped"

    def line(w, b, x):
        return np.array([w * x + b])
    assert families.swapped_arguments(line, [3.0, 0.5, 2.0], ["w", "b", "x"], line(0.5, 3.0, 2.0)) == ("w", "b")
    assert families.swapped_arguments(line, [3.0, 0.5, 2.0], ["w", "b", "x"], line(3.0, 0.5, 2.0)) is None


def test_labels_out_of_step_with_their_features():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    settled = y.mean() + rng.normal(0, 0.02, 400)  # learned the balance and nothing else
    assert families.out_of_step(settled, y)
    right = np.where(y == 1, 0.55, 0.45)
    lucky = np.where(rng.random(400) < 0.75, right, 1.0 - right)
    assert families.out_of_step(lucky, y)  # right 75% of the time by the leftover weights' luck, yet settled
    learned = np.where(y == 1, 0.9, 0.1) + rng.normal(0, 0.05, 400)
    assert not families.out_of_step(learned, y)
    untrained = 1 / (1 + np.exp(-rng.normal(0, 2, 400)))  # spread widely, right by chance
    assert not families.out_of_step(untrained, y)


def test_a_result_rounded_to_whole_numbers():
    e = np.array([1.7, -2.2, 3.5])
    assert named(np.trunc(e), e) == "rounded_to_integer"
    assert named(np.float64(18.0), np.float64(18.999996)) == "rounded_to_integer"
    assert named(np.array([1.0, 2.0]), np.array([1.0, 2.0])) is None
