"""Probe for exercise 3: forbid Keras layer and model calls from the student's code.

"By hand" is the exercise: while the student's functions run, calling a Keras
layer or model (`layer(x)`, `model(x)`, `predict`, `predict_on_batch`) raises
`KerasCallForbidden`, which the judge recognises by name. The guard looks up
the call stack for a frame of the student's file, so Keras keeps working for
anything else in this process.
"""

from __future__ import annotations

import functools
import os
import sys


class KerasCallForbidden(RuntimeError):
    """The student's code called a Keras layer or model in a by-hand exercise."""


_student_files: set[str] = set()


def _called_from_student() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename in _student_files:
            return True
        frame = frame.f_back
    return False


def _guard(owner: type, name: str) -> str | None:
    original = owner.__dict__.get(name) or getattr(owner, name, None)
    if original is None or getattr(original, "_grader_guard", False):
        return None
    what = f"{owner.__name__}.{name}"

    @functools.wraps(original)
    def guarded(*args, **kwargs):
        if _called_from_student():
            raise KerasCallForbidden(f"{what} is not allowed in this exercise: compute the output yourself")
        return original(*args, **kwargs)

    guarded._grader_guard = True  # type: ignore[attr-defined]
    setattr(owner, name, guarded)
    return what


def _keras_namespaces() -> list:
    found = []
    try:
        import keras

        found.append(keras)
    except ImportError:
        pass
    try:
        import tensorflow as tf

        found.append(tf.keras)
    except (ImportError, AttributeError):
        pass
    return found


def forbid_keras_calls(module) -> list[str]:
    """Install the guard (idempotent); returns what was newly guarded."""
    path = getattr(module, "__file__", None)
    if path:
        _student_files.update({path, os.path.abspath(path), os.path.realpath(path)})
    targets = []
    for ns in _keras_namespaces():
        layer, model = ns.layers.Layer, ns.Model
        targets += [(layer, "__call__"), (model, "__call__"), (model, "predict"), (model, "predict_on_batch"),
                    (ns.layers.Dense, "call")]
    guarded = []
    for owner, name in targets:
        what = _guard(owner, name)
        if what:
            guarded.append(what)
    return guarded
