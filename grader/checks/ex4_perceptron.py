"""Hidden checks for exercise 4: a perceptron with Keras.

The student's models come back from the runner as `.keras` bytes. `keras_file`
checks their config (known layers only) and has Keras load them in a worker
process, never in the judge; the worker sends back plain facts, and outputs on
inputs the judge chose. Training data are generated here from the run's seed;
the held-out part never reaches the student's runner (only the trusted
worker), and the judge trains its own reference perceptron on the same data,
once per run.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from grader.checks.support import keras_file, keras_references
from grader.checks.support.keras_file import ModelFacts, UnsafeModel, read_config
from grader.judge.families import IDEAS, chance_level, out_of_step
from grader.judge.feedback import Mistake

_KEY = "ex4_perceptron"
N_TRAIN = 400
N_HELD_OUT = 400


def separable_data(rng: np.random.Generator, n_features: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Linearly separable 0/1 data with a margin: features of different offsets and spreads."""
    w = rng.normal(size=n_features)
    w /= np.linalg.norm(w)
    mean, spread = rng.uniform(-1.0, 1.0, n_features), rng.uniform(0.5, 2.0, n_features)
    xs, ys, have = [], [], 0
    while have < n:
        x = mean + spread * rng.normal(size=(2 * n, n_features))
        side = (x - mean) @ w
        keep = np.abs(side) > 0.2
        xs.append(x[keep])
        ys.append((side[keep] > 0).astype(np.int64))
        have += int(keep.sum())
    return np.concatenate(xs)[:n].astype(np.float32), np.concatenate(ys)[:n]


def _cache(reference_cache) -> dict:
    return reference_cache.setdefault(_KEY, {})


def _training_data(rng) -> dict:
    n_features = int(rng.integers(3, 7))
    x, y = separable_data(rng, n_features, N_TRAIN + N_HELD_OUT)
    return {"n_features": n_features, "x": x[:N_TRAIN], "y": y[:N_TRAIN],
            "x_held_out": x[N_TRAIN:], "y_held_out": y[N_TRAIN:]}


def reference_accuracy(data: dict, reference_cache) -> float:
    """Held-out accuracy of the judge's own Keras perceptron: 200 full-batch Adam steps, in one fit."""
    cache = _cache(reference_cache)
    key = ("reference", data["x"].tobytes())
    if key not in cache:  # trained by Keras in a helper process: no TensorFlow in the judge
        probabilities = keras_references.perceptron_probabilities(data["x"], data["y"], data["x_held_out"])
        cache[key] = accuracy(probabilities, data["y_held_out"])
    return cache[key]


def accuracy(probabilities: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((probabilities > 0.5).astype(np.int64) == y))


@pytest.fixture(scope="module")
def keras_loader():
    """The worker that loads this submission's models; started now, it imports Keras while the runner works."""
    with keras_file.loader() as worker:
        worker.start()
        yield worker


def _models(keras_loader, probed: list[tuple[dict, str]], inputs: np.ndarray | None = None) -> list:
    """For each (probe facts, what), the ModelFacts of the student's model or the AssertionError that fails the check."""
    results = keras_file.read_models(keras_loader, [facts["keras"] for facts, _ in probed if facts["keras"] is not None],
                                     inputs)
    out = []
    for facts, what in probed:
        if facts["keras"] is None:
            out.append(AssertionError(f"{what} should return a Keras model; yours returned a {facts['type']}."))
        else:
            result = results.pop(0)
            out.append(AssertionError(str(result)) if isinstance(result, UnsafeModel) else result)
    return out


def _model(result) -> ModelFacts:
    if isinstance(result, AssertionError):
        raise result
    return result


def _built(student, n_features: int) -> dict:
    """build_perceptron(n_features) for this submission, once (architecture and compile checks share it)."""
    cache = student.cache.setdefault("built", {})
    if n_features not in cache:
        built = student.probe("built", n_features, what="build_perceptron()", needs=["build_perceptron"])
        cache[n_features] = built.plain()
    return cache[n_features]


def _train(student, n_features: int, x: np.ndarray, y: np.ndarray) -> dict:
    """A fresh model from build_perceptron, trained by train_perceptron in the runner."""
    facts = student.probe("trained", n_features, x, y, what="build_perceptron() then train_perceptron()",
                          needs=["build_perceptron", "train_perceptron"])
    return facts.plain()


def check_architecture(student, reference_cache, keras_loader):
    """build_perceptron(n) is one sigmoid neuron (one Dense unit) over n inputs, for several n."""
    sizes = (1, 3, 8)
    built = [(_built(student, n), f"build_perceptron({n})") for n in sizes]
    for n_features, result in zip(sizes, _models(keras_loader, built), strict=True):
        _judge_architecture(_model(result), n_features)


def _judge_architecture(model: ModelFacts, n_features: int) -> None:
    """Pass, or fail naming what is wrong with one model: judged by what it computes, not by its class names.

    One neuron is one Dense(1) whose output goes through one sigmoid, in the Dense itself or in an
    Activation layer after it; layers that pass a flat input on unchanged may stand around it.
    """
    layers = model.layers
    names = ", ".join(layer.class_name for layer in layers) or "none"
    dense = [layer for layer in layers if layer.class_name == "Dense"]
    if len(dense) != 1:
        raise Mistake("wrong_layers", f"build_perceptron({n_features}) should have exactly one Dense layer "
                      f"(a perceptron is one neuron); yours has: {names}.")
    at = layers.index(dense[0])
    for layer in layers[:at]:
        if layer.class_name == "Activation":
            raise Mistake("wrong_layers", f"In build_perceptron({n_features}) an Activation layer comes before the "
                          "Dense layer: it changes the inputs, not the neuron's output. Put it after Dense(1).")
        if layer.output_shape is not None and len(layer.output_shape) != 2:
            raise Mistake("wrong_layers", f"In build_perceptron({n_features}) your {layer.class_name} layer gives "
                          f"the Dense layer inputs of shape {layer.output_shape}: one neuron takes the "
                          f"{n_features} features as one flat vector, shape (None, {n_features}).")
    dense = dense[0]
    if dense.units != 1:
        raise Mistake("wrong_units", f"A perceptron is one neuron: Dense(1). Your Dense layer has {dense.units} units, "
                      "one output each: a 0/1 classifier needs a single probability.")
    if model.output_shape is not None and tuple(model.output_shape) != (None, 1):
        raise Mistake("wrong_layers", f"build_perceptron({n_features}) should output one probability per sample, "
                      f"shape (None, 1); yours outputs shape {model.output_shape}.")
    applied = [dense.activation] + [layer.activation for layer in layers[at + 1:] if layer.class_name == "Activation"]
    squashing = [a for a in applied if a != "linear"]
    if not squashing:
        raise Mistake(
            "no_sigmoid",
            "Your neuron has no activation (linear output), so it gives any real number, not a "
            "probability between 0 and 1. Use Dense(1, activation='sigmoid').",
        )
    if squashing == ["softmax"]:
        raise Mistake(
            "softmax_one_unit",
            "Your neuron uses softmax: over a single unit softmax is always exactly 1, whatever the input, so "
            "every sample is labelled 1. One unit giving a probability is a sigmoid: activation='sigmoid'.",
        )
    if len(squashing) > 1:
        raise Mistake("wrong_activation", f"Your neuron applies {' then '.join(map(repr, squashing))} one after the "
                      "other: a perceptron squashes its weighted sum once, with one sigmoid (in the Dense layer or "
                      "in an Activation layer after it, not both).")
    if squashing != ["sigmoid"]:
        raise Mistake("wrong_activation", f"The neuron should squash its output into a probability between 0 and 1 "
                      f"with a sigmoid; yours uses {squashing[0]!r}, whose output is not a probability.")
    inputs = model.input_shape
    if inputs != (None, n_features):
        raise Mistake(
            "wrong_input_shape",
            f"build_perceptron({n_features}) should take {n_features} input feature(s), shape (None, {n_features}); "
            + ("yours does not know its input size: start with keras.Input(shape=(n_features,))."
               if inputs is None else f"yours takes {inputs}."),
        )


def _loss_name(loss) -> str | None:
    """The loss's name as compile_config records it: a string, a Keras loss class, or a Keras loss function."""
    if type(loss) is str:
        return loss
    if type(loss) is dict and loss.get("class_name") == "function" and type(loss.get("config")) is str:
        return loss["config"]
    if type(loss) is dict and str(loss.get("module", "")).startswith("keras"):
        return loss.get("class_name")
    return None


BCE = {"binary_crossentropy", "BinaryCrossentropy", "bce"}
MSE = {"mse", "mean_squared_error", "MeanSquaredError", "MSE"}


def check_compiled(student, reference_cache):
    """build_perceptron compiles the model with an optimizer and binary cross-entropy."""
    facts = _built(student, 3)
    if facts["type"] == "NoneType":
        raise Mistake("returned_none", "build_perceptron(3) returned None: build the model, compile it and `return` it.")
    assert facts["keras"] is not None, f"build_perceptron(3) should return a Keras model; yours returned a {facts['type']}."
    _judge_compiled(facts["keras"])


def _judge_compiled(keras_bytes: bytes) -> None:
    """Pass, or fail naming what is wrong with how a saved model was compiled."""
    try:
        compiled = read_config(keras_bytes).get("compile_config")
    except UnsafeModel as e:
        raise AssertionError(str(e)) from None
    if not (type(compiled) is dict and compiled):
        raise Mistake("not_compiled", "build_perceptron returned a model that was never compiled: call "
                      "model.compile(optimizer=..., loss=...) before returning it, so it knows how to learn.")
    assert compiled.get("optimizer"), "Your model was compiled without an optimizer: pass optimizer='adam' (or another)."
    loss = compiled.get("loss")
    name = _loss_name(loss)
    if name in MSE:
        raise Mistake(
            "mse_instead_of_bce",
            "Your model is compiled with mean squared error. For a 0/1 classifier with a sigmoid output the loss "
            "is binary cross-entropy: loss='binary_crossentropy'.",
        )
    if name not in BCE:
        raise Mistake("wrong_loss", f"The loss should be binary cross-entropy (loss='binary_crossentropy'), the loss "
                      f"for 0/1 labels and a sigmoid probability; yours is {json.dumps(loss)[:120]}.")
    if type(loss) is dict and type(loss.get("config")) is dict and loss["config"].get("from_logits"):
        raise AssertionError(
            "Your loss has from_logits=True, but your model already applies the sigmoid: the loss would apply it "
            "a second time. Leave from_logits=False."
        )


def check_training(student, reference_cache, rng, tol, keras_loader):
    """After train_perceptron, held-out accuracy is at least min_accuracy (exercise.toml)."""
    data = _training_data(rng)
    facts = _train(student, data["n_features"], data["x"], data["y"])
    student.cache["trained"] = facts  # returns_history reads what this call returned
    # Outputs on the held-out data, then on the training data itself (labels out of step show there).
    [result] = _models(keras_loader, [(facts, "build_perceptron")], np.concatenate([data["x_held_out"], data["x"]]))
    model = _model(result)
    on_training = model.outputs[N_HELD_OUT:] if model.outputs is not None else None
    model = dataclasses.replace(model, outputs=model.outputs[:N_HELD_OUT]) if model.outputs is not None else model
    limit = tol["train_seconds"]
    assert facts["seconds"] <= limit, (
        f"train_perceptron took {facts['seconds']:.1f} s on {N_TRAIN} samples; keep it under {limit:g} s "
        "(fewer epochs, or a larger batch size)."
    )
    if facts.get("weights_changed") is False:
        raise Mistake("not_trained", "After your train_perceptron the model's weights are exactly those "
                      "build_perceptron gave it: nothing was trained. Call model.fit(x, y, epochs=...).")
    got = accuracy(model.outputs, data["y_held_out"])
    floor = tol["min_accuracy"]
    if got >= floor:
        return
    shortfall = (f"Your trained perceptron classifies {got:.1%} of held-out samples correctly; it should reach "
                 f"{floor:.0%}.")
    # A wrong layer or loss keeps the accuracy down however long it trains: say that, not "train longer".
    for judge in (lambda: _judge_architecture(model, data["n_features"]), lambda: _judge_compiled(facts["keras"])):
        try:
            judge()
        except Mistake as e:
            raise Mistake(e.name, f"{shortfall} Training longer will not fix it. {e.message}") from None
        except AssertionError as e:
            raise AssertionError(f"{shortfall} Training longer will not fix it. {e}") from None
    if on_training is not None and out_of_step(on_training, data["y"]):
        raise Mistake("labels_out_of_step", f"{shortfall} Even on the data it was trained on it is right only "
                      f"{accuracy(on_training, data['y']):.1%} of the time (always answering the most frequent label: "
                      f"{chance_level(data['y']):.1%}), and its outputs all sit near {float(on_training.mean()):.2f}, "
                      f"the share of 1s: it learned the balance of the labels and nothing else, as a model does when "
                      f"its features no longer sit beside their own labels. {IDEAS['labels_out_of_step']}")
    epochs = f" after {facts['epochs']} epoch(s)" if facts.get("epochs") is not None else ""
    reference = reference_accuracy(data, reference_cache)
    raise Mistake(
        "too_little_training",
        f"Your trained perceptron classifies {got:.1%} of held-out samples correctly{epochs}; it should reach "
        f"{floor:.0%} (a reference perceptron trained on the same data reaches {reference:.1%}). Train longer: "
        "more epochs, or a larger learning rate.",
    )


def check_returns_history(student, rng):
    """train_perceptron returns the History that model.fit gives back."""
    # What the training check's call returned, when it returned: a Keras fit in the runner
    # costs seconds, so it is not repeated just to see the type. Else a small run of its own.
    facts = student.cache.get("trained")
    if facts is None:
        x, y = separable_data(rng, 2, 64)
        facts = _train(student, 2, x, y)
    if facts["returned"] == "NoneType":
        raise Mistake(
            "train_returns_none",
            "train_perceptron returned None; return the History object that model.fit(...) gives back "
            "(`return model.fit(...)`).",
        )
    assert facts["is_history"], (
        f"train_perceptron should return the History from model.fit; yours returned a {facts['returned']}."
    )
    assert facts.get("history_of_model") and facts.get("epochs"), (
        "train_perceptron returned a History that model.fit did not fill (no epochs recorded for the model "
        "you were given): return what model.fit(...) returns."
    )


def check_predict_classes(student, rng):
    """predict_classes gives a 1-D integer array of 0/1 labels, threshold 0.5, on a model with known weights."""
    n_features, n = 3, 40
    kernel = rng.normal(size=(n_features, 1)).astype(np.float32)
    bias = rng.normal(size=(1,)).astype(np.float32)
    # Logits on both sides of the boundary, many of them close to it (probabilities 0.5 ± 0.001 to 0.5 ± 0.1).
    logits = rng.choice([-1.0, 1.0], size=n) * np.concatenate([rng.uniform(0.004, 0.05, n // 2), rng.uniform(0.05, 4.0, n - n // 2)])
    x = rng.normal(size=(n, n_features)).astype(np.float32)
    k = kernel[:, 0].astype(np.float64)
    x = (x + np.outer(logits - (x @ k + bias[0]), k) / (k @ k)).astype(np.float32)
    z = x.astype(np.float64) @ k + float(bias[0])
    expected = (z > 0).astype(np.int64)
    got = student.probe("classes", kernel, bias, x, what="predict_classes()", needs=["predict_classes"])
    if got.kind == "none":
        raise Mistake("returned_none", "predict_classes returned None: compute the labels and `return` them.")
    if got.dtype == "bool":
        raise Mistake("booleans_not_labels", "predict_classes returned booleans (True/False); labels are the integers "
                      "0 and 1: convert with .astype(int).")
    values = got.as_array("predict_classes()")
    if values.dtype.kind == "f" and np.any((values > 0) & (values < 1)):
        raise Mistake(
            "probabilities_not_labels",
            f"predict_classes returned probabilities ({values.ravel()[:3]} ...), not labels. Compare them with 0.5 "
            "and convert: (probabilities > 0.5).astype(int).",
        )
    flat = values.reshape(-1)
    if flat.size == n and np.all(flat == 1) and not np.all(expected == 1):
        raise Mistake(
            "threshold_zero",
            "predict_classes labelled every sample 1. A sigmoid output is always above 0, so comparing it with 0 "
            "says 1 every time: the threshold for a probability is 0.5.",
        )
    if not (values.ndim == 1 and values.shape[0] == n):
        raise Mistake("labels_shape", f"predict_classes should return a 1-D array with one label per sample, shape "
                      f"({n},); yours has shape {values.shape}. Flatten the (n, 1) predictions, e.g. with [:, 0] or "
                      ".ravel().")
    if not (got.kind in ("ndarray", "tensor") and values.dtype.kind in "iu"):
        raise Mistake("labels_not_int_array", f"predict_classes should return a NumPy array of integers; yours is "
                      f"{got.describe()}. Convert with np.array(...) and .astype(int).")
    if not set(np.unique(values)) <= {0, 1}:
        raise Mistake("labels_not_binary", f"Labels should be 0 or 1; yours include "
                      f"{[int(v) for v in sorted(set(np.unique(values)))[:5]]}.")
    if np.all(values == values.flat[0]) and np.any(expected != values.flat[0]):
        raise Mistake("constant_labels", f"predict_classes labelled every sample {values.flat[0]}, but the model's "
                      "probabilities are on both sides of 0.5: compute the labels from model.predict(x), 1 where the "
                      "probability is above 0.5.")
    wrong = np.flatnonzero(values != expected)
    if wrong.size == n:
        raise Mistake("labels_inverted", "Every label of your predict_classes is the opposite of the right one: "
                      "label 1 goes to a probability above 0.5, label 0 to one below.")
    order = np.argsort(z)
    if wrong.size and np.all(np.diff(values[order]) >= 0):
        raise Mistake("wrong_threshold", f"{wrong.size} of {n} labels are wrong: your labels grow with the "
                      "probability, but they switch from 0 to 1 at another threshold than 0.5. A sigmoid output is "
                      "a probability: label 1 exactly when it is above 0.5.")
    assert wrong.size == 0, (
        f"{wrong.size} of {n} labels are wrong, all close to the decision boundary (probabilities near 0.5): "
        f"label 1 exactly when the probability is above 0.5."
    )
