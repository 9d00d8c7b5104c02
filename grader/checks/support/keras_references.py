"""References of exercises 4 and 5 that only Keras or TensorFlow can compute, from a helper process.

The judge does not import TensorFlow: `reference_worker.py` trains exercise 4's
reference perceptron and converts exercise 5's reference int8 model in a helper
forked from the runners' zygote (`worker.Worker`), and sends back plain data.
A failure there is the grader's own, raised as `RuntimeError`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader.checks.support.worker import Worker

WORKER = Path(__file__).with_name("reference_worker.py")
PROBES_EX5 = Path(__file__).resolve().parent.parent.parent / "runner" / "probes" / "ex5_quantize.py"


def _ask(request: dict, arrays: dict[str, np.ndarray], what: str) -> tuple[dict, bytes]:
    with Worker(WORKER) as worker:
        data = worker.directory / "data.npz"
        np.savez(data, **arrays)
        answer = worker.ask({**request, "data": str(data), "out": str(worker.directory / "out")})
        if answer.error is not None:
            raise RuntimeError(f"the grader's {what} failed: the helper {answer.error}")
        out = worker.directory / "out"
        return answer.result, (out.read_bytes() if out.exists() else b"")


def perceptron_probabilities(x: np.ndarray, y: np.ndarray, x_held_out: np.ndarray) -> np.ndarray:
    """Held-out probabilities of the reference perceptron (Keras, 200 full-batch Adam steps, seed 0)."""
    result, _ = _ask({"op": "perceptron"}, {"x": x, "y": y, "x_held_out": x_held_out}, "reference perceptron")
    return np.asarray(result["probabilities"], np.float64)


def int8_model(weights: list[np.ndarray], samples: np.ndarray) -> bytes:
    """The full-integer int8 flatbuffer of exercise 5's sine model with these weights, calibrated on `samples`."""
    arrays = {f"w{i}": np.asarray(w) for i, w in enumerate(weights)}
    _, model = _ask({"op": "int8", "probes": str(PROBES_EX5)}, {**arrays, "samples": samples}, "reference int8 conversion")
    if not model:
        raise RuntimeError("the grader's reference int8 conversion wrote no model")
    return model
