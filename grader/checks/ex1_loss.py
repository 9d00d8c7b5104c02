"""Hidden checks for exercise 1 · write the loss."""

from __future__ import annotations

import numpy as np

from grader.judge.families import name_family
from grader.judge.feedback import Mistake, fmt
from grader.judge.values import Returned
from grader.runner.client import StudentRaised
from grader.runner.protocol import Tensor

COURSE_PRED = np.array([0, 10, 20, 30, 40, 50], dtype=np.float32)
COURSE_Y = np.array([-3, -1, 1, 3, 5, 7], dtype=np.float32)
EPS32 = float(np.finfo(np.float32).eps)


def _mse(p: np.ndarray, t: np.ndarray) -> float:
    return float(np.mean((p.astype(np.float64) - t.astype(np.float64)) ** 2))


def _broadcast(p: np.ndarray, t: np.ndarray) -> float:
    """What a loss gives when (n, 1) predictions minus (n,) targets broadcast into an (n, n) table."""
    return _mse(p.reshape(-1, 1), t.reshape(1, -1))


def _rtol(n: int, tol: dict) -> float:
    return tol["eps_per_term"] * (n + 4) * EPS32


def _number(r: Returned, n: int) -> float:
    """The loss as a float, naming the no-reduction mistake."""
    if r.kind == "none":
        raise Mistake("returned_none", "Your loss() returned None: compute the mean squared error and `return` it.")
    if r.kind in ("tensor", "variable", "ndarray") and r.value.size == n and n > 1:
        raise Mistake("no_reduction", f"Your loss returned {r.describe()}: one value per sample. "
                      "A loss is a single number: take the mean of the squared differences (tf.reduce_mean).")
    return r.as_float("loss()")


def _diagnose(got: float, p: np.ndarray, t: np.ndarray) -> None:
    """Raise the named mistake when `got` is a known wrong formula's value."""
    d = p.astype(np.float64) - t.astype(np.float64)
    n = len(d)
    mse = float(np.mean(d**2))
    if np.isclose(got, 715.6667, rtol=1e-6) and not np.isclose(mse, 715.6667, rtol=1e-4):
        raise Mistake("hard_coded", f"Your loss returned {fmt(got)}, the course example's answer, for other inputs "
                      f"(expected {fmt(mse)}). Compute the loss from predicted_y and target_y.")
    mae, mean_diff = float(np.mean(np.abs(d))), float(np.mean(d))
    p64, t64 = p.astype(np.float64), t.astype(np.float64)
    known = [
        ("square_of_mean", mean_diff**2, "Your loss squares the average difference: square each difference "
         "first, then take the mean of the squares."),
        ("added_not_subtracted", float(np.mean((p64 + t64) ** 2)), "Your loss adds predictions and targets: "
         "a sample's error is its prediction minus its target."),
        ("input_ignored", float(np.mean(p64**2)), "Your loss ignores the targets: it is the mean of the squared "
         "predictions. A sample's error is its prediction minus its target."),
        ("input_ignored", float(np.mean(t64**2)), "Your loss ignores the predictions: it is the mean of the "
         "squared targets. A sample's error is its prediction minus its target."),
        # For 2 samples, dividing twice and halving are one and the same: the family names it then.
        ("divided_twice", mse / n if n > 2 else None, f"Your loss is {n}× too small for {n} samples: the mean "
         "already divides by the number of samples; divide once."),
        ("sum_instead_of_mean", float(np.sum(d**2)) if n > 2 else None,
         f"Your loss is {n}× too large for {n} samples: did you sum the squares instead of taking their mean?"),
        ("root_mean_squared", float(np.sqrt(mse)),
         "Your loss is the square root of the mean squared error (that is RMSE): leave out the square root."),
    ]
    if np.isclose(mae, mean_diff, rtol=1e-6):
        known.append(("not_squared", mae, "Your loss is the average difference, not squared: "
                      "square each difference before averaging (mean *squared* error)."))
    else:
        known += [
            ("absolute_error", mae, "Your loss is the mean *absolute* error: square the differences instead of "
             "taking their absolute value."),
            ("not_squared", mean_diff, "Your loss is the average difference, not squared: positive and negative "
             "misses cancel out. Square each difference before averaging."),
        ]
    for name, value, message in known:
        if value is not None and not np.isclose(value, mse, rtol=1e-3) and np.isclose(got, value, rtol=1e-4, atol=1e-6):
            raise Mistake(name, f"{message} (expected {fmt(mse)}, got {fmt(got)})")


IDEAS = {  # what each family of mistakes means for a mean squared error
    "constant_factor": "Mean squared error has no constant factor of its own: look for a factor or a divisor "
                       "of your own, or a sum where a mean was meant.",
    "sign_flipped": "A square is never negative: look for a minus sign outside the square.",
}


def _call(student, *args) -> Returned:
    """Call loss(), naming the TensorFlow errors a beginner's loss runs into."""
    try:
        return student.call("loss", *args)
    except StudentRaised as e:
        if any(s in e.message for s in ("expected to be a", "must have the same dtype", "Tensor conversion requested dtype")):
            raise Mistake("mixed_dtypes", f"Your loss() raised {e.exc_type}: {e.message}. TensorFlow does not mix "
                          "dtypes in one operation: convert both inputs to the same float dtype first, e.g. "
                          "tf.cast(..., tf.float32).") from None
        if "Invalid reduction dimension" in e.message:
            raise Mistake("reduction_axis", f"Your loss() raised {e.exc_type}: {e.message}. Reduce over every "
                          "element: tf.reduce_mean without an axis.") from None
        raise


def check_course_example(student, tol):
    """The course example: w = b = 10 on the course data gives 715.6667."""
    # Then the course's line at another guess, w = b = 0: a loss that only knows 715.6667 earns nothing.
    for pred, shown in ((COURSE_PRED, "[0, 10, 20, 30, 40, 50]"), (np.zeros_like(COURSE_PRED), "[0, 0, 0, 0, 0, 0]")):
        got = _number(_call(student, Tensor(pred), COURSE_Y), len(COURSE_Y))
        expected = _mse(pred, COURSE_Y)
        if not np.isclose(got, expected, rtol=_rtol(len(COURSE_Y), tol)):
            _diagnose(got, pred, COURSE_Y)
            message = (f"For the course example (predictions {shown}, targets [-3, -1, 1, 3, 5, 7]) "
                       f"the loss should be {fmt(expected)}; yours is {fmt(got)}.")
            name_family(got, expected, "your loss", message, IDEAS)
            raise AssertionError(message)
    # The course writes its data as Python integers: the mean must not be taken in integers.
    expected = _mse(COURSE_PRED, COURSE_Y)
    r = _call(student, COURSE_PRED.astype(int).tolist(), COURSE_Y.astype(int).tolist())
    if r.kind in ("tensor", "variable", "ndarray", "numpy_scalar", "int") and np.dtype(r.dtype or int).kind in "iu":
        raise Mistake("integer_arithmetic", f"Given the course's data as Python lists of integers, your loss() "
                      f"returned {r.describe()}: the squares and their mean were computed in integers "
                      f"(expected {fmt(expected)}). Convert the inputs to floats first, e.g. "
                      "tf.cast(..., tf.float32) or dtype=tf.float32.")


def check_random_vectors(student, rng, tol):
    """Random predictions and targets of random lengths agree with Keras' MeanSquaredError."""
    for n in [int(rng.integers(1, 4)), int(rng.integers(5, 20)), int(rng.integers(20, 200))]:
        p = rng.normal(0, 3, n).astype(np.float32)
        t = rng.normal(0, 3, n).astype(np.float32)
        got = _number(_call(student, p, t), n)
        expected = _mse(p, t)  # what MeanSquaredError computes (tests/test_references.py), without TensorFlow
        if not np.isclose(got, expected, rtol=_rtol(n, tol), atol=1e-30):
            _diagnose(got, p, t)
            message = (f"For {n} random predictions and targets, Keras' MeanSquaredError gives "
                       f"{fmt(expected)}; your loss gives {fmt(got)}.")
            name_family(got, expected, "your loss", message, IDEAS)
            raise AssertionError(message)


MIXED = "predictions of shape (n, 1), as model.predict returns them, against targets of shape (n,)"
INPUT_FORMS = [
    ("Python lists of shape (n,)", lambda p, t: (p.tolist(), t.tolist())),
    ("NumPy arrays of shape (n,)", lambda p, t: (p, t)),
    ("NumPy arrays of shape (n, 1)", lambda p, t: (p.reshape(-1, 1), t.reshape(-1, 1))),
    ("tensors of shape (n,)", lambda p, t: (Tensor(p), Tensor(t))),
    ("tensors of shape (n, 1)", lambda p, t: (Tensor(p.reshape(-1, 1)), Tensor(t.reshape(-1, 1)))),
    ("a tensor of predictions and a NumPy array of targets", lambda p, t: (Tensor(p), t)),
    (MIXED, lambda p, t: (p.reshape(-1, 1), t)),
    (f"{MIXED}, as tensors", lambda p, t: (Tensor(p.reshape(-1, 1)), Tensor(t))),
]


def check_input_types(student, rng):
    """Returns a rank-0 float tensor for lists, NumPy arrays and tensors of shape (n,) and (n, 1)."""
    n = int(rng.integers(3, 12))
    p = rng.normal(0, 2, n).astype(np.float32)
    t = rng.normal(0, 2, n).astype(np.float32)
    values = []
    for form, make in INPUT_FORMS:
        try:
            r = student.call("loss", *make(p, t))
        except StudentRaised as e:
            raise AssertionError(f"With {form}, your loss() raised {e.exc_type}: {e.message}") from None
        if r.kind not in ("tensor", "variable"):
            raise AssertionError(f"With {form}, your loss() returned {r.describe()}: return a TensorFlow tensor "
                                 "(use tf.reduce_mean rather than np.mean or float()).")
        if r.shape != () and r.value.size == 1:
            raise Mistake("kept_dimension", f"With {form}, your loss() returned a tensor of shape {r.shape}: the "
                          "reduction kept a dimension (keepdims=True, or an axis argument). A loss is a single "
                          "number, a tensor of shape () (rank 0): reduce over every element.")
        if r.shape != ():
            raise AssertionError(f"With {form}, your loss() returned a tensor of shape {r.shape}: a loss is a "
                                 "single number, a tensor of shape () (rank 0).")
        if r.value.dtype.kind != "f":
            raise AssertionError(f"With {form}, your loss() returned a tensor of dtype {r.dtype}: it should be a "
                                 "float (convert the inputs with dtype=tf.float32).")
        values.append((form, r.as_float("loss()")))
    first_form, first = values[0]
    for form, v in values[1:]:
        if not np.isclose(v, first, rtol=1e-5, atol=1e-30) and np.isclose(v, _broadcast(p, t), rtol=1e-4):
            raise Mistake("broadcast_n_by_n", f"With {form}, your loss gives {fmt(v)} instead of {fmt(first)}: "
                          f"one input reached the subtraction with shape ({n}, 1) and the other ({n},), which "
                          f"broadcasts into a ({n}, {n}) table of every prediction minus every target, not n "
                          "differences. Give both inputs the same shape, e.g. tf.reshape(x, [-1]), before subtracting.")
        assert np.isclose(v, first, rtol=1e-5, atol=1e-30), (
            f"The same numbers give different losses as {first_form} ({fmt(first)}) and as {form} ({fmt(v)}): "
            "make both inputs the same shape, e.g. tf.reshape(x, [-1]), before subtracting.")
    # A loss computed from its inputs changes with them: other numbers, another loss.
    other = student.call("loss", p[::-1] * 2.0, t).as_float("loss()")
    if np.isclose(other, first, rtol=1e-6, atol=1e-30):
        if np.isclose(first, 715.6667, rtol=1e-6):
            raise Mistake("hard_coded", f"Your loss returned {fmt(first)}, the course example's answer, whatever "
                          "the inputs. Compute the loss from predicted_y and target_y.")
        raise AssertionError(f"Your loss returned {fmt(first)} for two different sets of predictions and targets "
                             f"(expected {fmt(_mse(p, t))} and {fmt(_mse(p[::-1] * 2.0, t))}): compute it from "
                             "predicted_y and target_y.")


def check_differentiable(student, rng, tol):
    """Differentiable: under tf.GradientTape the gradient w.r.t. the predictions is 2(p - t)/n."""
    n = int(rng.integers(3, 20))
    p = rng.normal(0, 2, n).astype(np.float32)
    t = rng.normal(0, 2, n).astype(np.float32)
    r = student.probe("gradient", p, t, what="loss() under tf.GradientTape").value
    got = _number(r["loss"], n)
    expected = _mse(p, t)
    if not np.isclose(got, expected, rtol=_rtol(n, tol)):
        _diagnose(got, p, t)
        message = f"Under tf.GradientTape your loss gave {fmt(got)}; expected {fmt(expected)}."
        name_family(got, expected, "your loss", message, IDEAS)
        raise AssertionError(message)
    grad = r["gradient"]
    if grad.kind == "none":
        raise Mistake("numpy_round_trip", "Your loss has the right value, but tf.GradientTape finds no gradient "
                      "through it: somewhere the computation left TensorFlow (.numpy(), np.*, float()) and the tape "
                      "lost track. Use tf.* operations from the inputs to the result.")
    g = grad.as_array("the gradient of your loss").reshape(-1)
    ref = 2.0 * (p.astype(np.float64) - t.astype(np.float64)) / n
    if g.shape == ref.shape and np.allclose(g, ref, rtol=_rtol(n, tol), atol=_rtol(n, tol) * np.abs(ref).max()):
        return
    message = (f"The gradient of your loss with respect to the predictions should be 2(p - t)/n = {fmt(ref)}; "
               f"tf.GradientTape gives {fmt(g)}.")
    name_family(g, ref, "the gradient of your loss", message, IDEAS)
    raise AssertionError(message)
