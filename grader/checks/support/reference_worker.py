"""Compute the references that need real Keras or TensorFlow, outside the judge.

Exercise 4's reference perceptron is trained by Keras, exercise 5's reference
int8 model is converted by TensorFlow's TFLiteConverter: neither has a closed
form. The judge runs this file as a script through `worker.Worker` (forked from
the runners' zygote, where TensorFlow is imported already), so that the judge
itself never imports TensorFlow. Its inputs are the judge's own data, never a
student's; it imports nothing from the grader but the runner's probe module that
builds exercise 5's model, by path.

    stdin:  one line per request:
            {"op": "perceptron", "data": "<path>.npz"}  (x, y, x_held_out)
            {"op": "int8", "data": "<path>.npz", "probes": "<path>.py", "out": "<path>.tflite"}  (weights, samples)
    stdout: one line per answer: {"probabilities": [...]} or {"path": "<out>"}
"""

import json
import os
import runpy
import sys


def _perceptron(keras, tf, np, data):
    """Held-out probabilities of a perceptron trained by 200 full-batch Adam steps, in one fit."""
    x, y, x_held_out = data["x"], data["y"], data["x_held_out"]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(x.shape[1],)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="binary_crossentropy")
    batches = tf.data.Dataset.from_tensors((x, y.astype(np.float32))).repeat(200)
    model.fit(batches, epochs=1, verbose=0, shuffle=False)
    probabilities = np.asarray(model(x_held_out, training=False)).reshape(len(x_held_out), -1)[:, 0]
    return {"probabilities": probabilities.astype(np.float64).tolist()}


def _int8(tf, np, data, probes, out):
    """The full-integer int8 conversion of exercise 5's model, calibrated on the samples."""
    weights = [data[f"w{i}"] for i in range(sum(k.startswith("w") for k in data.files))]
    samples = data["samples"].astype(np.float32)
    model = runpy.run_path(probes)["build_sine_model"](weights)

    def calibration():
        for row in samples:
            yield [row.reshape(1, -1)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = calibration
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    with open(out, "wb") as f:
        f.write(converter.convert())
    return {"path": out}


def main():
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever TensorFlow prints goes to stderr, never into an answer
    import keras
    import numpy as np
    import tensorflow as tf

    for line in sys.stdin:
        request = json.loads(line)
        with np.load(request["data"], allow_pickle=False) as data:
            if request["op"] == "perceptron":
                answer = _perceptron(keras, tf, np, data)
            else:
                answer = _int8(tf, np, data, request["probes"], request["out"])
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
