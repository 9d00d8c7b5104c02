import tensorflow as tf


def loss(predicted_y, target_y):
    return tf.constant(0.0)
