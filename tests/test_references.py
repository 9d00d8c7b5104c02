"""The judge's closed-form references equal what Keras and TensorFlow compute.

Exercises 1-3, and exercise 5's float model, are judged with float64 NumPy
references, so that the judge never imports TensorFlow. Here, and only here, the
same quantities are computed with Keras on random inputs, and must agree to
float32 precision.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import ex1_loss, ex2_train_step, ex3_two_layer
from grader.checks.support import tflite_facts

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

RTOL = 2e-5  # Keras computes in float32: a few ulps of the largest term


def _agree(ours, theirs, scale=None) -> None:
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    scale = max(1.0, float(np.max(np.abs(theirs)))) if scale is None else scale
    assert ours.shape == theirs.shape and np.all(np.abs(ours - theirs) <= RTOL * scale), (ours, theirs)


def test_loss_is_keras_mean_squared_error():
    rng = np.random.default_rng(1)
    mse = keras.losses.MeanSquaredError()
    for n in (1, 2, 7, 50, 199):
        p = rng.normal(0, 3, n).astype(np.float32)
        t = rng.normal(0, 3, n).astype(np.float32)
        _agree(ex1_loss._mse(p, t), float(mse(t, p)))


def test_train_step_is_a_gradient_tape_step():
    rng = np.random.default_rng(2)
    for _ in range(5):
        xs, ys, w0, b0 = ex2_train_step._hidden_data(rng)
        lr = ex2_train_step._stable_rate(rng, xs)
        w, b = tf.Variable(w0, dtype=tf.float32), tf.Variable(b0, dtype=tf.float32)
        x, y = tf.constant(xs, tf.float32), tf.constant(ys, tf.float32)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(w * x + b - y))
        dw, db = tape.gradient(loss, [w, b])
        w.assign_sub(lr * dw)
        b.assign_sub(lr * db)
        step = ex2_train_step._step(w0, b0, xs, ys, lr)
        _agree(step.loss, float(loss))
        _agree([step.dw, step.db], [float(dw), float(db)])
        _agree([step.w, step.b], [float(w.numpy()), float(b.numpy())], scale=max(1.0, abs(w0), abs(b0)))


@pytest.mark.parametrize("activation", [None, "relu"])
def test_network_is_keras_dense_layers(activation):
    rng = np.random.default_rng(3)
    for _ in range(4):
        n_inputs = int(rng.integers(1, 6))
        widths = [int(w) for w in rng.integers(1, 9, int(rng.integers(1, 5)))]
        layers = ex3_two_layer._stack(rng, n_inputs, widths)
        x = rng.normal(0, 2, n_inputs).astype(np.float32)
        dense = [keras.layers.Dense(w, activation=activation if i < len(widths) - 1 else None)
                 for i, w in enumerate(widths)]
        model = keras.Sequential([keras.Input((n_inputs,)), *dense])
        model.set_weights([w for layer in layers for w in layer])
        theirs = keras.ops.convert_to_numpy(model(x.reshape(1, -1), training=False))[0]
        _agree(ex3_two_layer._forward(layers, x, relu_hidden=activation == "relu"), theirs)


def test_sine_model_outputs_are_keras_predict():
    from grader import catalog
    from grader.runner.probes.ex5_quantize import build_sine_model

    weights = tflite_facts.weights(catalog.exercise(5))
    x = np.random.default_rng(4).uniform(0, 2 * np.pi, 50)
    theirs = build_sine_model(weights).predict(x.reshape(-1, 1), verbose=0).ravel()
    _agree(tflite_facts.float_outputs(weights, x), theirs)
