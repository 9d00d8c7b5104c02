"""Exercise 4 · Build a perceptron.

A perceptron is the smallest neural network: one neuron that weighs its inputs,
adds a bias and squashes the result into a probability with a sigmoid. Build one
with Keras, train it to separate two classes, and turn its probabilities into labels.

Run `grade exercise 4` to check your work, and `grade hint 4` if you are stuck.
"""

import keras
import numpy as np


def build_perceptron(n_features):
    """Return a compiled Keras model: one Dense unit with a sigmoid over `n_features` inputs.

    Compile it with binary cross-entropy and an optimizer of your choice.
    """
    # TODO: keras.Sequential with an Input and one Dense layer; then model.compile(...).
    raise NotImplementedError("Exercise 4: write build_perceptron()")


def train_perceptron(model, x, y):
    """Train `model` on `x` (n, n_features) and the 0/1 labels `y` (n,); return the History.

    Epochs and batch size are your choice, within the exercise's time limit.
    """
    # TODO: model.fit(...), and return what it returns.
    raise NotImplementedError("Exercise 4: write train_perceptron()")


def predict_classes(model, x):
    """Return a 1-D NumPy integer array of 0/1 labels: 1 where the probability is above 0.5."""
    # TODO: model.predict(x) gives probabilities of shape (n, 1).
    raise NotImplementedError("Exercise 4: write predict_classes()")
