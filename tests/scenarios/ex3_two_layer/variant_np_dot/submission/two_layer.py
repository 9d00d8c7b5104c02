import numpy as np


def two_layer_output(layer_1_weights, layer_2_weights, x):
    hidden = np.dot(np.array([x]), layer_1_weights[0]) + layer_1_weights[1]
    output = np.dot(hidden, layer_2_weights[0]) + layer_2_weights[1]
    return output


def network_output(layer_weights, x, hidden_activation=None):
    a = np.array(x, dtype=np.float32)
    for n, weights in enumerate(layer_weights):
        a = np.dot(a, weights[0]) + weights[1]
        if hidden_activation == "relu" and n != len(layer_weights) - 1:
            a = np.where(a > 0, a, 0)
    return a
