import tensorflow as tf


def loss(predicted_y, target_y):
    predicted_y = tf.convert_to_tensor(predicted_y, dtype=tf.float32)
    target_y = tf.convert_to_tensor(target_y, dtype=tf.float32)
    return tf.reduce_mean(tf.math.squared_difference(predicted_y, target_y))
