# Form from: Keras docs, keras.io/api/losses/regression_losses (mean_squared_error function), adapted
import keras
import tensorflow as tf


def loss(predicted_y, target_y):
    y_true = tf.reshape(tf.cast(target_y, tf.float32), [-1])
    y_pred = tf.reshape(tf.cast(predicted_y, tf.float32), [-1])
    return keras.losses.mean_squared_error(y_true, y_pred)
