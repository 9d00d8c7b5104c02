import tensorflow as tf


def loss(predicted_y, target_y):
    p = tf.reshape(tf.cast(predicted_y, tf.float32), [-1])
    t = tf.reshape(tf.cast(target_y, tf.float32), [-1])
    return tf.sqrt(tf.reduce_mean(tf.square(p - t)))
