# Form from: Keras docs, keras.io/api/losses/regression_losses (MeanSquaredError usage), adapted
import tensorflow as tf

mse = tf.keras.losses.MeanSquaredError()


def loss(predicted_y, target_y):
    y_pred = tf.reshape(tf.cast(predicted_y, tf.float32), [-1])
    y_true = tf.reshape(tf.cast(target_y, tf.float32), [-1])
    return mse(y_true, y_pred)
