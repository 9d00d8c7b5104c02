"""Read a student's `.keras` file in the judge without running any of their code.

A `.keras` file is a zip of `config.json` (the architecture, and how the model
was compiled), `metadata.json` and `model.weights.h5`. Deserialising a config
can call code (a `Lambda` layer holds Python bytecode; a custom class is
imported by name), so before Keras sees the file, its config is read here as
plain JSON and every object in it must be one of the few known classes the
exercises use. Keras then loads it with `safe_mode=True` and `compile=False`
(the compile settings are read from the JSON, never deserialised).
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

MAX_FILE_BYTES = 8 << 20
MAX_CONFIG_BYTES = 1 << 20
MAX_UNPACKED_BYTES = 64 << 20
ENTRIES = {"config.json", "metadata.json", "model.weights.h5", "assets/"}

# (module, class_name) pairs a config may hold; `None` as class_name: any class of that module.
KNOWN = {
    ("keras", "Sequential"), ("keras.src.models.functional", "Functional"),
    ("keras", "DTypePolicy"), ("keras", "FloatDTypePolicy"), (None, "__keras_tensor__"),
    ("keras.layers", "InputLayer"), ("keras.layers", "Dense"),
    ("keras.initializers", None), ("keras.regularizers", None), ("keras.constraints", None),
}
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
                if name == "function" or (module, name) not in KNOWN and (module, None) not in KNOWN:
                    raise UnsafeModel(
                        f"Your model uses {name!r} (from {module or 'your own code'}); the grader only loads "
                        "built-in Keras layers (InputLayer, Dense), so custom layers, models and activation "
                        "functions are not accepted. Build it from keras.Input and keras.layers.Dense."
                    )
                if registered not in (None, name) or (name == "Functional" and registered != "Functional"):
                    raise UnsafeModel(f"Your model uses the custom object {registered!r}; use built-in Keras classes only.")
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


def load_model(data: bytes):
    """A Keras model from .keras bytes, refusing anything but known, code-free classes."""
    check_known(read_config(data))
    import keras

    with tempfile.TemporaryDirectory(prefix="grader-keras-") as tmp:
        path = Path(tmp) / "model.keras"
        path.write_bytes(data)
        try:
            return keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as e:  # noqa: BLE001 - any failure to load is the file's, reported as such
            raise UnsafeModel(f"Keras could not load your saved model: {type(e).__name__}: {str(e)[:300]}") from None
