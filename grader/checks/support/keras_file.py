"""Read a student's `.keras` file without running any of their code, and never in the judge.

A `.keras` file is a zip of `config.json` (the architecture, and how the model
was compiled), `metadata.json` and `model.weights.h5`. Deserialising a config
can call code (a `Lambda` layer holds Python bytecode; a custom class is
imported by name), so before Keras sees the file, its config is read here as
plain JSON and every object in it must be one of the few known, code-free
built-in classes a one-neuron model can be drawn with (`PASS_THROUGH` layers
around one `Dense`, or a `Dense` and an `Activation`). Only then does Keras load it, with `safe_mode=True` and
`compile=False` (the compile settings are read from the JSON, never
deserialised), in a worker process (`keras_worker.py`): the weights are HDF5,
parsed by native code that a crafted file can crash or stall. The judge gets
plain facts back (`ModelFacts`).
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.checks.support.worker import Worker, warm

WORKER = Path(__file__).with_name("keras_worker.py")

MAX_FILE_BYTES = 8 << 20
MAX_CONFIG_BYTES = 1 << 20
MAX_UNPACKED_BYTES = 64 << 20
ENTRIES = {"config.json", "metadata.json", "model.weights.h5", "assets/"}

# (module, class_name) pairs a config may hold; `None` as class_name: any class of that module.
KNOWN = {
    ("keras", "Sequential"), ("keras.src.models.functional", "Functional"),
    ("keras", "DTypePolicy"), ("keras", "FloatDTypePolicy"), (None, "__keras_tensor__"),
    ("keras.layers", "InputLayer"), ("keras.layers", "Dense"), ("keras.layers", "Activation"),
    ("keras.initializers", None), ("keras.regularizers", None), ("keras.constraints", None),
}
# Built-in layers that pass a flat input on unchanged (at inference): a model may hold them around its neuron.
PASS_THROUGH = {"Flatten", "Reshape", "Identity", "Dropout"}
KNOWN |= {("keras.layers", name) for name in PASS_THROUGH}
LAYERS = ", ".join(["InputLayer", "Dense", "Activation", *sorted(PASS_THROUGH)])
ACTIVATIONS = {"sigmoid", "linear", "relu", "tanh", "softmax", "elu", "selu", "softplus", "softsign",
               "swish", "silu", "gelu", "hard_sigmoid", "exponential", "leaky_relu", "relu6", "mish"}


class UnsafeModel(Exception):
    """A model file the judge refuses to load; the message is for the student."""


def read_config(data: bytes) -> dict:
    """config.json of a .keras file, after checking the zip's shape."""
    if len(data) > MAX_FILE_BYTES:
        raise UnsafeModel(f"The saved model is {len(data)} bytes; a perceptron takes a few kilobytes.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
        strange = sorted({e.filename for e in entries} - ENTRIES)
        if strange:
            raise UnsafeModel(f"The saved model holds files model.save() does not write: {', '.join(strange[:3])}.")
        if sum(e.file_size for e in entries) > MAX_UNPACKED_BYTES:
            raise UnsafeModel("The saved model unpacks to far more than a perceptron's few kilobytes.")
        info = archive.getinfo("config.json")
        if info.file_size > MAX_CONFIG_BYTES:
            raise UnsafeModel("The saved model's config.json is too large to be a perceptron's.")
        config = json.loads(archive.read(info))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise UnsafeModel(f"model.save() did not produce a readable .keras file ({e}).") from None
    if type(config) is not dict:
        raise UnsafeModel("The saved model's config.json does not describe a model.")
    return config


def check_known(config: dict) -> None:
    """Every object in the architecture is a known, code-free Keras class."""

    def walk(node, where: str) -> None:
        if type(node) is dict:
            if "class_name" in node:
                module, name = node.get("module"), node.get("class_name")
                registered = node.get("registered_name")
                if name == "Lambda":
                    raise UnsafeModel(
                        "Your model has a Lambda layer; Lambda layers carry Python code, which the grader does "
                        "not load. Use a Dense layer with activation='sigmoid'."
                    )
                if name == "function":
                    raise UnsafeModel(
                        f"Your model uses your own function {node.get('config')!r} as an activation; the grader "
                        "loads no code from a submission, so only Keras' built-in activations are accepted: "
                        "activation='sigmoid' (or keras.activations.sigmoid, tf.nn.sigmoid)."
                    )
                if (module, name) not in KNOWN and (module, None) not in KNOWN:
                    raise UnsafeModel(_refused(module, name, registered))
                if registered not in (None, name) or (name == "Functional" and registered != "Functional"):
                    raise UnsafeModel(
                        f"Your model uses the custom class {registered!r}, defined in your own code; the grader "
                        f"loads no code from a submission, so only built-in Keras classes are accepted ({LAYERS})."
                    )
            for key, value in node.items():
                if key == "compile_config":
                    continue  # never deserialised: the judge loads with compile=False
                if key == "activation" and type(value) is str and value not in ACTIVATIONS:
                    raise UnsafeModel(f"Your model uses the activation {value!r}, which is not a built-in Keras activation.")
                walk(value, f"{where}.{key}")
        elif type(node) is list:
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(config, "config")


def _refused(module, name, registered) -> str:
    """Why a class the config names is not loaded, in the student's terms."""
    if str(module).startswith("keras.layers") and registered is None:
        return (f"Your model uses the built-in Keras layer {name}, which a perceptron does not need: the grader "
                f"loads one neuron's layers only ({LAYERS}). Build it from keras.Input and one Dense(1) with a "
                "sigmoid (in the Dense or in an Activation layer after it).")
    if str(module).startswith("keras") and registered is None:
        return (f"Your model uses Keras' {name} (from {module}), which the grader does not load: a perceptron "
                f"needs only a Sequential or functional model of these layers: {LAYERS}.")
    return (f"Your model uses {name!r}, a class of your own (module {module or '?'}), not Keras': the grader loads "
            f"no code from a submission, so custom layers and models are not accepted. Build it from built-in "
            f"Keras layers ({LAYERS}).")


@dataclass
class Layer:
    class_name: str
    units: object
    activation: object  # as the layer's config gives it: "sigmoid", "linear", ...
    input_shape: object = None  # what reached the layer, e.g. (None, 3), when Keras knows it
    output_shape: object = None


@dataclass
class ModelFacts:
    """What Keras read from a student's model, as plain data."""

    layers: list[Layer]  # every layer but the InputLayer
    input_shape: tuple | None  # (None, n_features); None when the model does not know it
    output_shape: tuple | None  # (None, 1) for one neuron; None when unknown
    weights: list[np.ndarray]
    outputs: np.ndarray | None  # the first output column on the inputs sent, when they were sent


@contextlib.contextmanager
def loader() -> Iterator[Worker]:
    """A worker process that loads models for `read_models`, for the exercise being judged.

    With a zygote it is the zygote's warm one, kept for the next submission; else a
    throw-away process, ended on leaving.
    """
    shared = warm(WORKER)
    if shared is not None:
        yield shared
        return
    with Worker(WORKER) as worker:
        yield worker


def read_models(worker: Worker, files: list[bytes | None], inputs: np.ndarray | None = None) -> list:
    """For each .keras file, its `ModelFacts` (with outputs on `inputs`), or the `UnsafeModel` that refuses it.

    The configs are checked here first; the files that pass are loaded by Keras in `worker`,
    all in one request. A crash or a timeout there refuses every file of the request.
    """
    results: list = [None] * len(files)
    paths = {}
    for i, data in enumerate(files):
        try:
            check_known(read_config(data))
        except UnsafeModel as e:
            results[i] = e
            continue
        paths[i] = worker.directory / f"model-{i}.keras"
        paths[i].write_bytes(data)
    if not paths:
        return results
    request = {"models": [str(p) for p in paths.values()], "inputs": None}
    if inputs is not None:
        np.save(worker.directory / "inputs.npy", np.asarray(inputs, np.float32), allow_pickle=False)
        request["inputs"] = str(worker.directory / "inputs.npy")
    try:
        answer = worker.ask(request)
    finally:
        for p in [*paths.values(), worker.directory / "inputs.npy"]:
            p.unlink(missing_ok=True)
    for i, facts in zip(paths, _answers(answer, len(paths), None if inputs is None else len(inputs)), strict=True):
        results[i] = facts
    return results


def _answers(answer, n: int, n_inputs: int | None) -> list:
    if answer.error is not None:
        return [UnsafeModel(f"Your model file could not be loaded: the loader {answer.error}.") for _ in range(n)]
    try:
        models = answer.result["models"]
        assert type(models) is list and len(models) == n
        return [_model_facts(m, n_inputs) for m in models]
    except (AssertionError, KeyError, TypeError, ValueError):
        return [UnsafeModel("Your model file could not be loaded: the loader sent back an unreadable answer.")
                for _ in range(n)]


def _model_facts(m: dict, n_inputs: int | None) -> ModelFacts | UnsafeModel:
    if "error" in m:
        return UnsafeModel(f"Keras could not load your saved model: {m['error']}")
    if "run_error" in m:
        return UnsafeModel(f"Keras could not run your saved model on the grader's inputs: {m['run_error']}")
    outputs = None
    if n_inputs is not None:
        outputs = np.asarray(m["outputs"], np.float64)
        assert outputs.shape == (n_inputs,)
    return ModelFacts(
        layers=[Layer(str(layer["class"]), layer["units"], layer["activation"], _tuple(layer.get("input_shape")),
                      _tuple(layer.get("output_shape"))) for layer in m["layers"]],
        input_shape=None if m["input_shape"] is None else _tuple(m["input_shape"]),
        output_shape=_tuple(m.get("output_shape")),
        weights=[np.asarray(w["values"], np.float64).reshape(w["shape"]) for w in m["weights"]],
        outputs=outputs,
    )


def _tuple(shape):
    return tuple(_tuple(d) for d in shape) if type(shape) is list else shape
