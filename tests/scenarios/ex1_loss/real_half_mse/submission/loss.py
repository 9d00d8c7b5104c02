# Form from: Coursera Machine Learning Specialization, compute_cost (cost = 1 / (2 * m) * sum), adapted to TensorFlow
import tensorflow as tf


def loss(predicted_y, target_y):
    p = tf.reshape(tf.cast(predicted_y, tf.float32), [-1])
    t = tf.reshape(tf.cast(target_y, tf.float32), [-1])
    m = tf.cast(tf.size(p), tf.float32)
    return tf.reduce_sum(tf.square(p - t)) / (2 * m)
