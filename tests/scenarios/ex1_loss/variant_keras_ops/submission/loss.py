import keras
import tensorflow as tf


def loss(predicted_y, target_y):
    p = keras.ops.reshape(keras.ops.cast(predicted_y, "float32"), (-1,))
    t = keras.ops.reshape(keras.ops.cast(target_y, "float32"), (-1,))
    diff = p - t
    return keras.ops.sum(diff * diff) / keras.ops.cast(keras.ops.size(diff), "float32")
