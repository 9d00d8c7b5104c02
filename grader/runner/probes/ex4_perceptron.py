"""Probes for exercise 4: what needs a Keras model next to the student's code.

Models leave the runner as the bytes of a `.keras` file (never pickled); the
judge checks their config, refusing anything but known layers, and has them
loaded in a worker process of its own.
"""

import os
import tempfile
import time

import numpy as np


def _type_name(value):
    kind = type(value)
    module = kind.__module__.split(".")[0]
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _saved(model):
    """The .keras file's bytes, written to a temporary path in the working directory."""
    import keras

    if not isinstance(model, keras.Model):
        return None
    fd, path = tempfile.mkstemp(suffix=".keras", dir=os.getcwd())
    os.close(fd)
    try:
        model.save(path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.remove(path)


def built(module, n_features):
    """build_perceptron(n_features), saved."""
    model = module.build_perceptron(n_features)
    return {"type": _type_name(model), "keras": _saved(model)}


def trained(module, n_features, x, y):
    """build_perceptron, then train_perceptron on (x, y): what it returned, how long it took, the model."""
    import keras

    model = module.build_perceptron(n_features)
    before = _weights(model)
    start = time.perf_counter()
    history = module.train_perceptron(model, x, y)
    seconds = time.perf_counter() - start
    after = _weights(model)
    facts = {"type": _type_name(model), "returned": _type_name(history), "seconds": seconds,
             "is_history": isinstance(history, keras.callbacks.History), "keras": _saved(model),
             "weights_changed": None if before is None or after is None else not (
                 len(before) == len(after) and all(np.array_equal(a, b) for a, b in zip(before, after)))}
    if facts["is_history"]:
        facts["epochs"] = len(getattr(history, "epoch", None) or [])  # a History fit never filled has none
        facts["history_of_model"] = getattr(history, "model", None) is model
    return facts


def _weights(model):
    """A copy of the model's weights, or None when it is not a Keras model."""
    import keras

    return [np.array(w) for w in model.get_weights()] if isinstance(model, keras.Model) else None


def classes(module, kernel, bias, x):
    """predict_classes on a one-neuron sigmoid model whose weights the judge chose."""
    import keras

    model = keras.Sequential([keras.Input(shape=(kernel.shape[0],)), keras.layers.Dense(1, activation="sigmoid")])
    model.set_weights([np.asarray(kernel, np.float32), np.asarray(bias, np.float32)])
    return module.predict_classes(model, x)
