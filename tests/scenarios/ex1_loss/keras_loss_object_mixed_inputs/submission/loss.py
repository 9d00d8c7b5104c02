import tensorflow as tf

mse = tf.keras.losses.MeanSquaredError()


def loss(predicted_y, target_y):
    return mse(target_y, predicted_y)
