"""Probes for exercise 2: run the student's train/fit on the grader's own Model.

A model's variables cannot cross the process boundary, so these build the
model here, call the student's code with it, and report plain facts (values,
types, whether the variables are still the same objects). They hold no
reference answers: the judge computes those and decides.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


class Model:
    """The grader's Model: the same behaviour as the one in the student's file,
    with the starting values as arguments."""

    def __init__(self, w: float = 10.0, b: float = 10.0):
        self.w = tf.Variable(float(w), dtype=tf.float32)
        self.b = tf.Variable(float(b), dtype=tf.float32)

    def __call__(self, x):
        return self.w * x + self.b


def _type_name(value) -> str:
    if isinstance(value, tf.Variable):
        return "tf.Variable"
    if tf.is_tensor(value):
        return "tf.Tensor"
    if isinstance(value, np.ndarray):
        return "numpy.ndarray"
    if isinstance(value, np.generic):
        return f"numpy.{type(value).__name__}"
    return type(value).__name__


def _number(value) -> float | None:
    """A size-1 numeric value as a float, else None."""
    if isinstance(value, (str, bytes)) or value is None:
        return None
    try:
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        if array.size != 1 or not np.issubdtype(array.dtype, np.number):
            return None
        return float(array.reshape(-1)[0])
    except (TypeError, ValueError):
        return None


def _data(values, as_tensor):
    """The data as the course passes them (a list of floats: False), as a float32 tensor (True) or "ndarray"."""
    values = [float(v) for v in values]
    if as_tensor == "ndarray":
        return np.asarray(values, dtype=np.float32)
    return tf.constant(values, dtype=tf.float32) if as_tensor else values


def _state(model: Model, w_given, b_given) -> dict:
    return {
        "w": _number(model.w),
        "b": _number(model.b),
        "w_type": _type_name(model.w),
        "b_type": _type_name(model.b),
        "w_same": model.w is w_given,
        "b_same": model.b is b_given,
    }


def train_step(module, w, b, xs, ys, learning_rate, as_tensor=True) -> dict:
    """One call of the student's train on a fresh Model(w, b)."""
    model = Model(w, b)
    w_given, b_given = model.w, model.b
    returned = module.train(model, _data(xs, as_tensor), _data(ys, as_tensor), learning_rate)
    return {"loss": _number(returned), "loss_type": _type_name(returned), **_state(model, w_given, b_given)}


def fit_run(module, w, b, xs, ys, epochs, learning_rate, as_tensor=True) -> dict:
    """One call of the student's fit on a fresh Model(w, b), counting its calls to train."""
    model = Model(w, b)
    w_given, b_given = model.w, model.b
    train_losses: list = []
    student_train = module.train

    def counted_train(*args, **kwargs):
        out = student_train(*args, **kwargs)
        train_losses.append(_number(out))
        return out

    module.train = counted_train
    try:
        returned = module.fit(model, _data(xs, as_tensor), _data(ys, as_tensor), epochs, learning_rate)
    finally:
        module.train = student_train
    items = list(returned) if isinstance(returned, (list, tuple)) else None
    return {
        "type": _type_name(returned),
        "items": None if items is None else [_number(i) for i in items],
        "item_types": None if items is None else [_type_name(i) for i in items],
        "items_are_floats": None if items is None else all(isinstance(i, float) for i in items),
        "train_losses": train_losses,
        **_state(model, w_given, b_given),
    }
