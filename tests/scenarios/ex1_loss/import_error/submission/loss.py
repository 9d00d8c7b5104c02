import tensorflw as tf


def loss(predicted_y, target_y):
    return tf.reduce_mean(tf.square(predicted_y - target_y))
