"""Probes for exercise 5: what needs a Keras model or a generator next to the student's code.

They report facts as plain data; the judge decides.
"""

import itertools

import numpy as np


def build_sine_model(weights):
    """The hello-world sine model (Dense(16, relu) -> Dense(16, relu) -> Dense(1)) with these weights."""
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=(1,)),
            keras.layers.Dense(16, activation="relu", name="dense_1"),
            keras.layers.Dense(16, activation="relu", name="dense_2"),
            keras.layers.Dense(1, name="dense_3"),
        ],
        name="sine",
    )
    model.set_weights([np.asarray(w, dtype=np.float32) for w in weights])
    return model


def _describe(value):
    """A yielded value as facts: its type, and for arrays and tensors, dtype, shape and values."""
    facts = {"type": type(value).__module__ + "." + type(value).__qualname__}
    if isinstance(value, (list, tuple)):
        facts["items"] = [_describe(v) for v in value[:4]]
        facts["length"] = len(value)
        return facts
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything the student yields that is not array-like
        return facts
    if array.dtype.kind in "biuf" and array.size <= 4096:
        facts.update(dtype=array.dtype.name, shape=list(array.shape), value=array)
    return facts


def representative_items(module, x_sample, limit):
    """Call representative_dataset(x_sample) and describe up to `limit` items of what it yields."""
    dataset = module.representative_dataset(x_sample)
    facts = {"returned": type(dataset).__qualname__, "callable": callable(dataset)}
    if callable(dataset):
        items = list(itertools.islice(dataset(), limit))
        facts["items"] = [_describe(item) for item in items]
    return facts


def quantize(module, weights, x_sample):
    """Build the sine model from `weights`, call quantize(model, x_sample), report what came back."""
    result = module.quantize(build_sine_model(weights), x_sample)
    facts = {"type": type(result).__module__ + "." + type(result).__qualname__}
    if isinstance(result, (bytes, bytearray, memoryview)):
        facts["bytes"] = bytes(result)
    elif isinstance(result, str) or hasattr(result, "__fspath__"):
        facts["path"] = str(result)
    return facts
