"""Exercise 1 · Write the loss (reference solution)."""

import tensorflow as tf


def loss(predicted_y, target_y):
    """Return the mean squared error of `predicted_y` against `target_y`."""
    # Flatten both: (n, 1) predictions minus (n,) targets would broadcast to an (n, n) table.
    predicted_y = tf.reshape(tf.cast(tf.convert_to_tensor(predicted_y), tf.float32), [-1])
    target_y = tf.reshape(tf.cast(tf.convert_to_tensor(target_y), tf.float32), [-1])
    return tf.reduce_mean(tf.square(predicted_y - target_y))
