import numpy as np


def two_layer_output(layer_1_weights, layer_2_weights, x):
    return 0.0


def network_output(layer_weights, x, hidden_activation=None):
    return np.zeros(len(layer_weights[-1][1]))
