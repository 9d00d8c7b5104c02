"""Probes for exercise 5: what needs a Keras model or a generator next to the student's code.

They report facts as plain data; the judge decides.
"""

import contextlib
import inspect
import itertools
import os
import re
import sys
import tempfile
import warnings

import numpy as np

# What TFLiteConverter prints on its own (temporary paths, object ids): not the student's output.
_CONVERTER_NOISE = re.compile(
    r"^(\s*"
    r"|Saved artifact at '.*'\. The following endpoints are available:"
    r"|\* Endpoint '.*'"
    r"|(Output Type|Captures):"
    r"|  (\S+( \(\w+\))?: )?TensorSpec\(.*\)"
    r"|fully_quantize: \d+, inference_type: .*)$"
)


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


def _type_name(value):
    """The type as a student would write it: list, numpy.ndarray, tf.Tensor, pathlib.PosixPath."""
    kind = type(value)
    module = kind.__module__.split(".")[0]
    if module == "builtins":
        return kind.__qualname__
    if module == "tensorflow":
        return "tf.Tensor" if "Tensor" in kind.__qualname__ else f"tf.{kind.__qualname__}"
    return f"{module}.{kind.__qualname__}"


def _describe(value):
    """A yielded value as facts: its type, and for arrays and tensors, dtype, shape and values."""
    facts = {"type": _type_name(value)}
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
    """Call representative_dataset(x_sample) and describe up to `limit` items of what it yields.

    Both forms of the contract: a generator function (the call gives the generator) or a
    function returning a zero-argument generator function (the call gives that function).
    """
    dataset = module.representative_dataset(x_sample)
    facts = {"returned": _type_name(dataset), "callable": callable(dataset),
             "generator": inspect.isgenerator(dataset)}
    if callable(dataset):
        facts["items"] = [_describe(item) for item in itertools.islice(dataset(), limit)]
    elif facts["generator"]:
        facts["items"] = [_describe(item) for item in itertools.islice(dataset, limit)]
    return facts


@contextlib.contextmanager
def _without_converter_noise():
    """Run with stdout and stderr captured at the file-descriptor level (the converter also prints
    from C++), then pass on every line but the converter's own."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with tempfile.TemporaryFile(dir=os.getcwd()) as captured, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
        for fd in saved:
            os.dup2(captured.fileno(), fd)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            captured.seek(0)
            kept = [
                line for line in captured.read().decode("utf-8", "replace").splitlines(keepends=True)
                if not _CONVERTER_NOISE.match(line.rstrip("\n"))
            ]
            if kept:
                os.write(1, "".join(kept).encode())


def quantize(module, weights, x_sample):
    """Build the sine model from `weights`, call quantize(model, x_sample), report what came back."""
    model = build_sine_model(weights)
    with _without_converter_noise():
        result = module.quantize(model, x_sample)
    facts = {"type": _type_name(result)}
    if isinstance(result, (bytes, bytearray, memoryview)):
        facts["bytes"] = bytes(result)
    elif isinstance(result, str) or hasattr(result, "__fspath__"):
        facts["path"] = str(result)
    return facts


def c_source(module, tflite_model, var_name=None):
    """Call to_c_array (with its default var_name when None); the C text comes back whole, as UTF-8 bytes."""
    if var_name is None:
        result = module.to_c_array(tflite_model)
    else:
        result = module.to_c_array(tflite_model, var_name=var_name)
    facts = {"type": _type_name(result)}
    if isinstance(result, str):
        facts["text"] = result.encode("utf-8", "replace")
    return facts
