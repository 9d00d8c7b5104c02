import numpy as np


def two_layer_output(layer_1_weights, layer_2_weights, x):
    kernel_1 = layer_1_weights[0]
    kernel_2 = layer_2_weights[0]
    neuron_1 = kernel_1[0][0] * x
    neuron_2 = kernel_1[0][1] * x
    return float(kernel_2[0][0] * neuron_1 + kernel_2[1][0] * neuron_2)


def network_output(layer_weights, x, hidden_activation=None):
    values = np.asarray(x, dtype=float)
    for i, (kernel, bias) in enumerate(layer_weights):
        values = values @ kernel
        if hidden_activation == "relu" and i < len(layer_weights) - 1:
            values = np.maximum(values, 0)
    return values
