"""A correct loss that prints 50 MB at import and 5 MB on every call."""
import sys

import tensorflow as tf

LINE = "x" * 999 + "\n"
for _ in range(50_000):
    sys.stdout.write(LINE)
sys.stderr.write(LINE * 1000)


def loss(predicted_y, target_y):
    p = tf.reshape(tf.cast(tf.convert_to_tensor(predicted_y), tf.float32), [-1])
    t = tf.reshape(tf.cast(tf.convert_to_tensor(target_y), tf.float32), [-1])
    return tf.reduce_mean(tf.square(p - t))

_loss = loss


def loss(predicted_y, target_y):
    sys.stdout.write(LINE * 5000)
    return _loss(predicted_y, target_y)
