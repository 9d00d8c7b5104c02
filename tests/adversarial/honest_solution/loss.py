"""Baseline: the honest, correct loss earns full marks."""
import tensorflow as tf


def loss(predicted_y, target_y):
    p = tf.reshape(tf.cast(tf.convert_to_tensor(predicted_y), tf.float32), [-1])
    t = tf.reshape(tf.cast(tf.convert_to_tensor(target_y), tf.float32), [-1])
    return tf.reduce_mean(tf.square(p - t))
