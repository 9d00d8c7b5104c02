"""Load students' `.keras` files with Keras and report plain facts, in a throw-away process.

The judge never loads a submitted model itself: Keras hands the weights file
to HDF5, native code that a crafted file can crash or stall. The judge runs
this file as a script through `worker.Worker` (`python -I`, limits, a timeout)
after `keras_file` has checked the archive and its config (known, code-free
classes only); it imports nothing from the grader. It answers requests until
stdin closes, so TensorFlow is imported once per submission.

    stdin:  one line per request: {"models": ["<path>.keras", ...], "inputs": "<path>.npy" or null}
    stdout: one line per answer:  {"models": [facts or {"error": "Type: message"}, ...]}

Facts of a model: its layers but the InputLayer ({"class", "units", "activation",
"input_shape", "output_shape"}), its input and output shapes (null when unknown), its weights (one {"shape", "values"} per array)
and, when inputs were sent, "outputs": the first output column on those inputs (or
"run_error").
"""

import json
import os
import sys


def _plain(value):
    """A JSON-able stand-in for a config value (always a str or a number here, after the judge's checks)."""
    return value if value is None or type(value) in (str, int, float, bool) else repr(value)


def _shape(layer, which):
    """A layer's or model's input or output shape as a list, or None when Keras does not know it."""
    try:
        tensor = getattr(layer, which)  # "input" / "output": the symbolic tensor, when the model was built on one
        shape = (tensor[0] if type(tensor) in (list, tuple) else tensor).shape
    except (AttributeError, ValueError, RuntimeError, IndexError, TypeError):
        return None
    shape = list(shape)
    return shape if all(d is None or type(d) is int for d in shape) else None


def _model_shape(model, which):
    try:
        shape = getattr(model, f"{which}_shape")
    except (AttributeError, ValueError, RuntimeError):
        return _shape(model, which)
    return list(shape) if type(shape) in (list, tuple) and all(d is None or type(d) is int for d in shape) else None


def _facts(keras, np, path, inputs):
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    facts = {
        "layers": [{"class": type(layer).__name__, "units": _plain(getattr(layer, "units", None)),
                    "activation": _plain(layer.get_config().get("activation")),
                    "input_shape": _shape(layer, "input"), "output_shape": _shape(layer, "output")}
                   for layer in layers],
        "input_shape": _model_shape(model, "input"),
        "output_shape": _model_shape(model, "output"),
        "weights": [{"shape": list(w.shape), "values": np.asarray(w, np.float64).ravel().tolist()}
                    for w in model.get_weights()],
    }
    if inputs is not None:
        try:
            outputs = np.asarray(model(inputs, training=False), np.float64).reshape(len(inputs), -1)[:, 0]
            facts["outputs"] = outputs.tolist()
        except Exception as e:  # noqa: BLE001 - the model's failure, reported as such
            facts["run_error"] = f"{type(e).__name__}: {str(e)[:300]}"
    return facts


def main():
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever Keras prints goes to stderr, never into an answer
    import keras
    import numpy as np

    for line in sys.stdin:
        request = json.loads(line)
        inputs = None if request.get("inputs") is None else np.load(request["inputs"], allow_pickle=False)
        models = []
        for path in request["models"]:
            try:
                models.append(_facts(keras, np, path, inputs))
            except Exception as e:  # noqa: BLE001 - a file Keras cannot load is the student's, reported as such
                models.append({"error": f"{type(e).__name__}: {str(e)[:300]}"})
        answers.write(json.dumps({"models": models}, default=repr) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
