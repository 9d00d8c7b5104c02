"""Hidden checks for exercise 1 · write the loss."""

from __future__ import annotations

import re

import numpy as np

from grader.judge import python_ideas
from grader.judge.families import name_family
from grader.judge.feedback import Mistake, fmt
from grader.judge.values import Returned
from grader.runner.client import StudentRaised
from grader.runner.protocol import Tensor

COURSE_PRED = np.array([0, 10, 20, 30, 40, 50], dtype=np.float32)
COURSE_Y = np.array([-3, -1, 1, 3, 5, 7], dtype=np.float32)
EPS32 = float(np.finfo(np.float32).eps)
DTYPE_ERRORS = ("expected to be a", "must have the same dtype", "Tensor conversion requested dtype")


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
        raised = raised_words(e.exc_type, e.message)
        if any(s in e.message for s in DTYPE_ERRORS):
            raise Mistake("mixed_dtypes", f"Your loss() raised {raised}. TensorFlow does not mix dtypes in one "
                          "operation: convert both inputs to the same float dtype first, e.g. "
                          "tf.cast(..., tf.float32).") from None
        if "Invalid reduction dimension" in e.message:
            raise Mistake("reduction_axis", f"Your loss() raised {raised}. Reduce over every element: "
                          "tf.reduce_mean without an axis.") from None
        raise


def _course_call(student, expected: float, tol) -> None:
    """The course's own line, loss(model(xs), ys): the model's float32 tensor against ys, a list of integers."""
    call = "the course's own call loss(model(xs), ys), a tensor of predictions against the Python list ys"
    try:
        r = _call(student, Tensor(COURSE_PRED), COURSE_Y.astype(int).tolist())
    except Mistake as m:  # a named error (mixed dtypes...): named with the call that met it
        raise Mistake(m.name, f"With {call}, {m.message[:1].lower()}{m.message[1:]}") from None
    except StudentRaised as e:
        if python_ideas.idea(e.exc_type):
            raise  # a plain Python error: an error, as on every other check
        raised = raised_words(e.exc_type, e.message, e.line)
        raise AssertionError(f"With {call}, your loss() raised {raised}. The two inputs may be of different kinds: "
                             "convert both to float32 tensors first, e.g. tf.cast(x, tf.float32).") from None
    got = _number(r, len(COURSE_Y))
    if not np.isclose(got, expected, rtol=_rtol(len(COURSE_Y), tol)):
        _diagnose(got, COURSE_PRED, COURSE_Y)
        raise AssertionError(f"With {call}, the loss should be {fmt(expected)}; yours is {fmt(got)}.")


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
    _course_call(student, expected, tol)
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


# Every accepted form of one input: (kind, dtype, column). Lists carry Python floats, whatever the dtype. NumPy
# arrays come as float32 (model.predict) or float64 (np.array of Python floats); tensors as float32 only: a
# float64 tensor is refused by tf.convert_to_tensor(x, dtype=tf.float32), the conversion the hints teach.
FORMS = [(kind, dtype, column) for kind, dtype in (("list", "float32"), ("ndarray", "float32"),
                                                   ("ndarray", "float64"), ("tensor", "float32"))
         for column in (False, True)]
T32, T32_COL, N32, N32_COL, N64, LIST = (("tensor", "float32", False), ("tensor", "float32", True),
                                         ("ndarray", "float32", False), ("ndarray", "float32", True),
                                         ("ndarray", "float64", False), ("list", "float32", False))
# Tried first, in this order: the course's own calls, then the forms a beginner's loss meets first.
FIRST = [
    (T32, LIST),  # loss(model(xs), ys): the model's tensor against the course's Python list
    (N32_COL, N64),  # model.predict's (n, 1) float32 against float64 NumPy targets
    (LIST, LIST), (N32, N32), (N32_COL, N32_COL), (T32, T32), (T32_COL, T32_COL), (T32, N32), (N32_COL, N32),
    (T32_COL, T32),
]
PAIRS = FIRST + [(p, t) for p in FORMS for t in FORMS if (p, t) not in FIRST]
COURSE_CALLS = {(T32, LIST): " (the course's own call, loss(model(xs), ys))",
                (N32_COL, N64): " (model.predict's output against float64 targets)"}


def _describe(form: tuple) -> str:
    kind, dtype, column = form
    shape = "(n, 1)" if column else "(n,)"
    return (f"a Python list of shape {shape}" if kind == "list" else
            f"a {dtype} {'NumPy array' if kind == 'ndarray' else 'tensor'} of shape {shape}")


def call_words(p_form: tuple, t_form: tuple) -> str:
    """How a student recognises the call: loss(<predictions>, <targets>), with the course's name for it."""
    return (f"loss(predicted_y as {_describe(p_form)}, target_y as {_describe(t_form)})"
            f"{COURSE_CALLS.get((p_form, t_form), '')}")


def raised_words(exc: str, message: str, line: object = None, code: object = "") -> str:
    """`Type: message (line N: `code`)`, without the values of the inputs (TensorFlow prints them in its errors)."""
    message = re.sub(r"numpy=.*?>", "numpy=…>", str(message), flags=re.DOTALL).rstrip(". ")
    where = f" (line {line}: `{code}`)" if line and code else f" (line {line})" if line else ""
    return f"{exc}: {message}{where}"


def _judge_raised(call: str, r: dict, everywhere: bool) -> None:
    exc, message = r["raised"].plain(), r["message"].plain()
    line, code = r["line"].plain() if "line" in r else None, r["code"].plain() if "code" in r else ""
    raised = raised_words(exc, message, line, code)
    if everywhere or python_ideas.idea(str(exc)):  # not about the inputs' form: an error, as on every other check
        where = f" (loss.py, line {line}: `{code}`)" if line else ""
        raise StudentRaised(f"Your code raised {exc}: {message} while running loss(){where}.", str(exc),
                            str(message), line, "call")
    if any(s in str(message) for s in DTYPE_ERRORS):
        raise Mistake("mixed_dtypes", f"With {call}, your loss() raised {raised}. TensorFlow does "
                      "not mix dtypes in one operation: convert both inputs to the same float dtype first, e.g. "
                      "tf.cast(..., tf.float32).")
    raise AssertionError(f"With {call}, your loss() raised {raised}. The inputs may be lists, "
                         "NumPy arrays (float32 or float64) or tensors, of shape (n,) or (n, 1), and the two may "
                         "differ: convert both, e.g. tf.reshape(tf.cast(x, tf.float32), [-1]), before computing.")


def check_input_types(student, rng):
    """Returns a rank-0 float tensor for every pairing of lists, NumPy arrays and tensors of shape (n,) and (n, 1)."""
    n = int(rng.integers(3, 12))
    p = rng.normal(0, 2, n).astype(np.float32)
    t = rng.normal(0, 2, n).astype(np.float32)
    results = student.probe("forms", p, t, PAIRS, what="loss()", needs=["loss"])
    assert results.kind == "list" and len(results.value) == len(PAIRS), (
        f"Your code sent back {results.describe()} where the grader expected its own list of results: a graded "
        "function must only return its result.")
    first = None
    raised = {r.value["raised"].plain() if r.kind == "dict" and "raised" in r.value else None for r in results.value}
    for (p_form, t_form), r in zip(PAIRS, results.value, strict=True):
        call = call_words(p_form, t_form)
        if r.kind == "dict" and "raised" in r.value:
            _judge_raised(call, r.value, everywhere=None not in raised and len(raised) == 1)
        if r.kind not in ("tensor", "variable"):
            raise AssertionError(f"With {call}, your loss() returned {r.describe()}: return a TensorFlow tensor "
                                 "(use tf.reduce_mean rather than np.mean or float()).")
        if r.shape != () and r.value.size == 1:
            raise Mistake("kept_dimension", f"With {call}, your loss() returned a tensor of shape {r.shape}: the "
                          "reduction kept a dimension (keepdims=True, or an axis argument). A loss is a single "
                          "number, a tensor of shape () (rank 0): reduce over every element.")
        if r.shape != ():
            raise AssertionError(f"With {call}, your loss() returned a tensor of shape {r.shape}: a loss is a "
                                 "single number, a tensor of shape () (rank 0).")
        if r.value.dtype.kind != "f":
            raise AssertionError(f"With {call}, your loss() returned a tensor of dtype {r.dtype}: it should be a "
                                 "float (convert the inputs with dtype=tf.float32).")
        v = r.as_float("loss()")
        if first is None:
            first = (call, v)
            continue
        if not np.isclose(v, first[1], rtol=1e-5, atol=1e-30) and np.isclose(v, _broadcast(p, t), rtol=1e-4):
            raise Mistake("broadcast_n_by_n", f"With {call}, your loss gives {fmt(v)} instead of {fmt(first[1])}: "
                          f"one input reached the subtraction with shape ({n}, 1) and the other ({n},), which "
                          f"broadcasts into a ({n}, {n}) table of every prediction minus every target, not n "
                          "differences. Give both inputs the same shape, e.g. tf.reshape(x, [-1]), before subtracting.")
        assert np.isclose(v, first[1], rtol=1e-5, atol=1e-30), (
            f"The same numbers give different losses with {first[0]} ({fmt(first[1])}) and with {call} "
            f"({fmt(v)}): make both inputs the same shape and dtype, e.g. tf.reshape(tf.cast(x, tf.float32), [-1]), "
            "before subtracting.")
    # A loss computed from its inputs changes with them: other numbers, another loss.
    first = first[1]
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
