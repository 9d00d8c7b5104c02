import numpy as np
import tensorflow as tf


def two_layer_output(layer_1_weights, layer_2_weights, x):
    out = network_output([layer_1_weights, layer_2_weights], [x])
    return out[0]


def network_output(layer_weights, x, hidden_activation=None):
    values = tf.reshape(tf.constant(x, dtype=tf.float32), (1, -1))
    for i, (kernel, bias) in enumerate(layer_weights):
        values = tf.matmul(values, kernel) + bias
        if hidden_activation == "relu" and i + 1 < len(layer_weights):
            values = tf.nn.relu(values)
    return values.numpy().reshape(-1)
