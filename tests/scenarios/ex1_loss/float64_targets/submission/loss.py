import tensorflow as tf


def loss(predicted_y, target_y):
    predicted_y = tf.reshape(tf.convert_to_tensor(predicted_y), [-1])
    target_y = tf.reshape(tf.convert_to_tensor(target_y), [-1])
    return tf.reduce_mean(tf.square(predicted_y - target_y))
