"""Names for whole families of mistakes: how a wrong result relates to the right one.

A check's list of known mistakes names cases ("the sum instead of the mean"); when none
matches, the relation between the student's result and the reference can still name the
family the mistake belongs to: off by a constant factor (and which), the sign flipped,
two values swapped, a shape collapsed by a reduction, labels out of step with their
features. Pure NumPy, on the judge's side: these functions only compare numbers the
runner sent back with numbers the judge computed.

`name_family(...)` raises the `Mistake` of the first relation that holds; a check calls it
on its failure path, after its own known mistakes and before its plain assertion.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

from grader.judge.feedback import Mistake, fmt

RTOL = 1e-4
# What each family asks the student to revisit; a check may give a more precise idea.
IDEAS = {
    "constant_factor": "Look for a constant in your formula that should not be there, or one that is missing: "
                       "a factor, a divisor, or a step taken more than once.",
    "sign_flipped": "Look for a subtraction done the wrong way round or a minus sign too many.",
    "swapped": "Two values trade places: check which name goes where.",
    "collapsed_by_reduction": "A reduction (a sum, a mean, a max) came where each element should be treated on "
                              "its own: reduce only at the step that asks for one number.",
    "labels_out_of_step": "Features and labels belong together row by row: anything that reorders one "
                          "(shuffling, sorting, slicing) must reorder the other the same way.",
    "rounded_to_integer": "A conversion to an integer (int(), .astype(int), //) drops the fraction: keep the "
                          "values as floats.",
    "gradients_swapped": "Each parameter steps against its own gradient: the gradient of the loss with respect "
                         "to w moves w, the one with respect to b moves b.",
}
FAMILIES = frozenset(IDEAS)


def _flat(x) -> np.ndarray:
    return np.asarray(x, np.float64).reshape(-1)


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> bool:
    scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-12)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= rtol * scale + 1e-12))


def _simple(k: float) -> Fraction | None:
    """`k` as a simple fraction (denominator up to 16, numerator up to 64), if it is one."""
    f = Fraction(k).limit_denominator(16)
    if f != 0 and abs(f.numerator) <= 64 and abs(float(f) - k) <= RTOL * abs(k):
        return f
    return None


def factor_words(k: float) -> str:
    """A factor as the student reads it: "2×", "half (0.5×)", "-3×"."""
    f = _simple(k)
    if f is not None and f.denominator == 1:
        return f"{f.numerator}×"
    words = {Fraction(1, 2): "half", Fraction(1, 3): "a third", Fraction(1, 4): "a quarter"}
    if f is not None and f in words:
        return f"{words[f]} ({float(f):.3g}×)"
    if f is not None:
        return f"{f.numerator}/{f.denominator} ({float(f):.3g}×)"
    return f"{k:.4g}×"


def constant_factor(got, expected, rtol: float = RTOL) -> float | None:
    """The k ≠ 1 with got = k × expected, if there is one.

    For a single number any k would do, so only a simple fraction (2, 1/2, 3/4, -6...) counts.
    """
    g, e = _flat(got), _flat(expected)
    if g.shape != e.shape or not np.any(np.abs(e) > 1e-9):
        return None
    k = float(g @ e / (e @ e))
    if abs(k) < 1e-6 or abs(k - 1) <= 10 * rtol or not _close(g, k * e, rtol * max(1.0, abs(k))):
        return None
    if np.count_nonzero(np.abs(e) > 1e-9 * np.max(np.abs(e))) < 2 and _simple(k) is None:
        return None
    return k


def collapsed(got, expected, rtol: float = RTOL) -> str | None:
    """How a reduction collapsed `expected` into `got`, if one did: "the sum of the 4 values expected"...

    Either one number where several were expected, or the same number in every place, that
    number being the sum, mean, largest or smallest of the expected values.
    """
    g, e = _flat(got), _flat(expected)
    if e.size < 2 or g.size == 0 or np.ptp(e) <= 1e-6 * max(float(np.max(np.abs(e))), 1e-12):
        return None
    one = g.size == 1 or (g.size == e.size and np.ptp(g) <= rtol * max(float(np.max(np.abs(g))), 1e-12))
    if not one:
        return None
    for word, f in (("sum", np.sum), ("mean", np.mean), ("largest", np.max), ("smallest", np.min)):
        if abs(float(f(e))) > 1e-9 and _close(g[:1], np.array([f(e)]), rtol):
            where = "one number" if g.size == 1 else f"the same number in all {g.size} places"
            return f"{where}, the {word} of the {e.size} values expected"
    return None


def swapped(got: Sequence, expected: Sequence, rtol: float = RTOL) -> tuple[int, int] | None:
    """The two positions whose values trade places in `got`, if exactly one such swap explains it."""
    g, e = [_flat(x) for x in got], [_flat(x) for x in expected]
    if len(g) != len(e) or any(a.shape != b.shape for a, b in zip(g, e)):
        return None
    wrong = [i for i, (a, b) in enumerate(zip(g, e)) if not _close(a, b, rtol)]
    if len(wrong) != 2:
        return None
    i, j = wrong
    if g[i].shape == e[j].shape and _close(g[i], e[j], rtol) and _close(g[j], e[i], rtol):
        return i, j
    return None


def swapped_arguments(f: Callable[..., np.ndarray], args: Sequence, names: Sequence[str], got,
                      rtol: float = RTOL) -> tuple[str, str] | None:
    """The two same-shaped arguments of the reference `f` whose exchange gives `got`, if exactly one pair does."""
    right = _flat(f(*args))
    found = []
    for i in range(len(args)):
        for j in range(i + 1, len(args)):
            if np.shape(args[i]) != np.shape(args[j]):
                continue
            trial = list(args)
            trial[i], trial[j] = args[j], args[i]
            alt = _flat(f(*trial))
            if not _close(alt, right, 1e-3) and _close(_flat(got), alt, rtol):
                found.append((names[i], names[j]))
    return found[0] if len(found) == 1 else None


def chance_level(labels) -> float:
    """The accuracy of always answering the most frequent label."""
    y = np.asarray(labels).reshape(-1)
    return float(max(np.mean(y == 1), np.mean(y != 1))) if y.size else 0.0


def out_of_step(probabilities, labels) -> bool:
    """Whether a trained classifier has learned its labels' balance and nothing else.

    A model trained on features shuffled apart from their labels settles near weights of
    zero: its outputs crowd around the share of 1s, and even on the data it was trained on it
    is far from the near-perfect fit of a perceptron on separable data (whatever side its
    leftover weights happen to point to, the accuracy is luck). An untrained model's outputs
    spread widely, and a model that learned the labels separates them.
    """
    p, y = _flat(probabilities), np.asarray(labels).reshape(-1)
    if p.size != y.size or p.size < 20:
        return False
    acc = float(np.mean((p > 0.5).astype(int) == y))
    return acc < 0.9 and float(np.std(p)) < 0.1 and abs(float(np.mean(p)) - float(np.mean(y == 1))) < 0.1


def rounded(got, expected) -> bool:
    """Whether `got` is `expected` with its fractions dropped (truncated, floored or rounded to integers)."""
    g, e = _flat(got), _flat(expected)
    if g.shape != e.shape or not np.all(g == np.round(g)) or np.all(e == np.round(e)):
        return False
    return any(np.array_equal(g, f(e)) for f in (np.trunc, np.floor, np.round))


def relation(got, expected, rtol: float = RTOL) -> tuple[str, str] | None:
    """(family, what the student's result is) for the first relation between the two that holds."""
    g, e = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    if rounded(g, e):
        return "rounded_to_integer", "the expected value without its fraction, a whole number"
    if g.size == e.size:
        k = constant_factor(g, e, rtol)
        if k is not None and abs(k + 1) <= 10 * rtol:
            return "sign_flipped", "the expected value with its sign flipped"
        if k is not None:
            return "constant_factor", f"{factor_words(k)} the expected value"
    how = collapsed(g, e, rtol)
    if how is not None:
        return "collapsed_by_reduction", how
    return None


def name_family(got, expected, what: str, context: str, ideas: dict[str, str] | None = None,
                rtol: float = RTOL) -> None:
    """Raise the `Mistake` of the family `got` belongs to, relative to `expected`; else return.

    `what` names the result ("your loss"); `context` is the check's own sentence with the
    expected and the actual value; `ideas` overrides a family's idea to revisit.
    """
    found = relation(got, expected, rtol)
    if found is None:
        return
    family, how = found
    idea = (ideas or {}).get(family, IDEAS[family])
    raise Mistake(family, f"{what[:1].upper()}{what[1:]} is {how}. {idea} {context}".strip())


def name_swap(got: Sequence, expected: Sequence, labels: Sequence[str], what: str, context: str,
              family: str = "swapped", idea: str | None = None, rtol: float = RTOL) -> None:
    """Raise a `swapped` (or `family`) `Mistake` when two of the values trade places; else return."""
    pair = swapped(got, expected, rtol)
    if pair is None:
        return
    a, b = labels[pair[0]], labels[pair[1]]
    raise Mistake(family, f"{what[:1].upper()}{what[1:]}: {a} got what {b} should, and {b} what {a} should. "
                  f"{idea or IDEAS[family]} {context}".strip())
