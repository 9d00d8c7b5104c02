"""Exercise 1 · Write the loss.

A model learns by guessing, measuring how wrong the guess was, and adjusting.
The measuring is done by the *loss function*. Write the mean squared error:
the average, over all samples, of (prediction - target) squared.

Run `grade exercise 1` to check your work, and `grade hint 1` if you are stuck.
"""

import tensorflow as tf


def loss(predicted_y, target_y):
    """Return the mean squared error of `predicted_y` against `target_y`.

    Both arguments hold one number per sample: Python lists, NumPy arrays or
    TensorFlow tensors, of shape (n,) or (n, 1), not necessarily the same one:
    predictions of shape (n, 1) against targets of shape (n,) must give the same
    loss as two arrays of shape (n,). Return a single number as a
    rank-0 float TensorFlow tensor. Stay in TensorFlow operations so that
    `tf.GradientTape` can differentiate your loss.

    Example: predictions [0, 10, 20, 30, 40, 50] against targets
    [-3, -1, 1, 3, 5, 7] give a loss of about 715.6667.
    """
    # TODO: compute the difference, square it, and take the mean.
    raise NotImplementedError("Exercise 1: write loss()")
