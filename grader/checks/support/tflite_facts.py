"""Exercise 5's shared machinery: the reference int8 model, the interpreters and the C-array facts.

The float model's outputs are computed in NumPy; the judge's own int8 conversion runs in a
helper forked from the runners' zygote (`keras_references`); int8 flatbuffers run in a
LiteRT / TFLite Micro worker (`tflite_worker.py`); a C array is compiled by
`c_array_harness`. Results are kept in `reference_cache` by the bytes they were computed from.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.checks.support import keras_references
from grader.checks.support.c_array_harness import CArrayFacts, inspect_c_array
from grader.checks.support.worker import Worker

WORKER = Path(__file__).with_name("tflite_worker.py")
WORKER_SECONDS = 60
SAMPLE_SEED = 20240605
SAMPLE_SIZE = 300
C_VAR = "sine_model_tflite"
_KEY = "ex5_quantize"


# --- shared, computed once per run ---------------------------------------------------------


def shared(reference_cache) -> dict:
    """References shared by every submission graded in this process with the same seeds."""
    return reference_cache.setdefault(_KEY, {})


def weights(exercise) -> list[np.ndarray]:
    with np.load(exercise.directory / "sine_model.npz", allow_pickle=False) as saved:
        return [saved[f"{layer}_{part}"] for layer in ("dense_1", "dense_2", "dense_3") for part in ("kernel", "bias")]


def sample() -> np.ndarray:
    """The calibration sample handed to quantize: float64, as np.random gives it to students."""
    return np.random.default_rng(SAMPLE_SEED).uniform(0.0, 2 * np.pi, size=(SAMPLE_SIZE, 1))


def float_outputs(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """What the float Keras model (`build_sine_model`: Dense(16, relu) -> Dense(16, relu) -> Dense(1))
    outputs for the inputs `x`, in float64 NumPy (tests/test_references.py shows they agree)."""
    values = np.asarray(x, np.float64).reshape(-1, 1)
    for i in range(0, len(weights), 2):
        values = values @ np.asarray(weights[i], np.float64) + np.asarray(weights[i + 1], np.float64)
        if i + 2 < len(weights):
            values = np.maximum(values, 0.0)
    return values.ravel()


def reference_tflite(exercise, reference_cache) -> bytes:
    """The judge's own int8 conversion of the same model and sample, by TensorFlow in a helper process."""
    cache = shared(reference_cache)
    if "reference" not in cache:
        cache["reference"] = keras_references.int8_model(weights(exercise), sample().astype(np.float32))
    return cache["reference"]


@dataclass
class Run:
    facts: dict | None
    error: str | None


def tflm_available() -> bool:
    return importlib.util.find_spec("tflite_micro") is not None


def run_interpreter(model: bytes, interpreter: str, inputs=None, arena_size: int = 0) -> Run:
    """Load (and optionally run) `model` in a worker process; a crash there is a failed run, never ours."""
    with Worker(WORKER, seconds=WORKER_SECONDS) as worker:
        path = worker.directory / "model.tflite"
        path.write_bytes(model)
        answer = worker.ask({"model": str(path), "interpreter": interpreter, "arena_size": arena_size,
                             "inputs": None if inputs is None else [np.ravel(x).tolist() for x in inputs]})
    if answer.error is not None:
        return Run(None, f"the interpreter {answer.error}")
    return Run(answer.result, None)


def litert_facts(model: bytes, reference_cache) -> dict:
    """What LiteRT reads from a flatbuffer, cached by content."""
    cache = shared(reference_cache).setdefault("litert", {})
    key = hashlib.sha256(model).hexdigest()
    if key not in cache:
        cache[key] = run_interpreter(model, "litert")
    run = cache[key]
    assert run.error is None, f"The LiteRT interpreter could not load your model: {run.error}."
    return run.facts


def to_model_input(x: np.ndarray, details: dict) -> np.ndarray:
    """Float inputs as the model's input type wants them; integers clipped to their range."""
    dtype = np.dtype(details["dtype"])
    if dtype.kind == "f":
        return x.astype(dtype)
    scale, zero_point = details["scales"][0], details["zero_points"][0]
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)


def from_model_output(y: np.ndarray, details: dict) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if np.dtype(details["dtype"]).kind == "f":
        return y
    return (y - details["zero_points"][0]) * details["scales"][0]


def outputs(model: bytes, interpreter: str, x: np.ndarray, details: dict, reference_cache,
             arena_size: int = 0) -> Run:
    """What `interpreter` outputs for `x`; a successful run is kept in the cache, keyed by the model's bytes.

    The outputs are a function of the bytes, the interpreter and the inputs only (and the
    inputs come from the seed), so the many submissions whose conversion gives the same
    bytes share one run. A failed run is not kept: a timeout on a busy machine is not a
    property of the model.
    """
    inputs = to_model_input(x, details)
    cache = shared(reference_cache).setdefault("outputs", {})
    key = (hashlib.sha256(model).hexdigest(), interpreter, arena_size, inputs.dtype.str, inputs.tobytes())
    if key in cache:
        return cache[key]
    run = run_interpreter(model, interpreter, inputs=[[v] for v in inputs.ravel()], arena_size=arena_size)
    if run.facts is not None:
        run.facts["values"] = np.array(run.facts["outputs"], dtype=np.float64).ravel()
    if run.error is None:
        cache[key] = run
    return run


def test_inputs(rng, n: int = 64) -> np.ndarray:
    return np.concatenate([[0.0, 2 * np.pi], rng.uniform(0.0, 2 * np.pi, n - 2)])


def is_quantized(details: dict) -> bool:
    return np.dtype(details["dtype"]).kind in "iu" and bool(details["scales"])


# --- checks --------------------------------------------------------------------------------


def inspect_c_array_cached(source: str, n: int, reference_cache) -> CArrayFacts:
    """gcc's verdict on a C source, kept in the cache keyed by the source (most submissions write the same text).

    A verdict cut short (a timeout, an unreadable output) is not kept.
    """
    cache = shared(reference_cache).setdefault("c_array", {})
    key = (hashlib.sha256(source.encode("utf-8")).hexdigest(), C_VAR, n)
    if key in cache:
        return cache[key]
    facts = inspect_c_array(source, C_VAR, n)
    if facts.run_error is None:
        cache[key] = facts
    return facts
