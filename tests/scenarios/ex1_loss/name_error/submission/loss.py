import tensorflow as tf


def loss(predicted_y, target_y):
    predicted_y = tf.reshape(tf.cast(predicted_y, tf.float32), [-1])
    target_y = tf.reshape(tf.cast(target_y, tf.float32), [-1])
    return tf.reduce_mean(tf.square(predicted_y - targte_y))
