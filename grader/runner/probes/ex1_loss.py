"""Runner-side probes for exercise 1: the loss under tf.GradientTape, and over every pair of input forms."""

import traceback

import numpy as np
import tensorflow as tf


def gradient(module, predicted, target):
    """The loss and d(loss)/d(predicted) under tf.GradientTape, as the student wrote it."""
    p = tf.Variable(tf.constant(predicted, dtype=tf.float32))
    with tf.GradientTape() as tape:
        value = module.loss(p, tf.constant(target, dtype=tf.float32))
    grad = tape.gradient(value, p) if tf.is_tensor(value) else None  # nothing to differentiate: the judge says why
    return {"loss": value, "gradient": grad}


def _form(values, form):
    """`values` as one accepted input form: [kind ("list", "ndarray", "tensor"), dtype, column (n, 1) or not]."""
    kind, dtype, column = form
    array = np.asarray(values, dtype=dtype)
    if column:
        array = array.reshape(-1, 1)
    if kind == "list":
        return array.tolist()
    return tf.constant(array) if kind == "tensor" else array


def _raised(module, e):
    """What the judge needs of an exception: its type, message and line in the student's file."""
    line, code = None, ""
    for frame in traceback.extract_tb(e.__traceback__):
        if frame.filename == getattr(module, "__file__", None):
            line, code = frame.lineno, (frame.line or "").strip()
    return {"raised": type(e).__name__, "message": str(e)[:400], "line": line, "code": code[:200]}


def forms(module, predicted, target, pairs):
    """loss() on each (predictions form, targets form) pair, in one request: its value, or how it raised."""
    results = []
    for p_form, t_form in pairs:
        try:
            results.append(module.loss(_form(predicted, p_form), _form(target, t_form)))
        except (NotImplementedError, MemoryError):
            raise  # not attempted, or over a limit: the runner reports it as for any call
        except Exception as e:  # noqa: BLE001 - the student's loss raising on this form is the finding
            results.append(_raised(module, e))
    return results
