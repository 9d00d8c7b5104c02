import numpy as np


def two_layer_output(layer_1_weights, layer_2_weights, x):
    kernel_1, bias_1 = layer_1_weights
    kernel_2, bias_2 = layer_2_weights
    neuron_1 = kernel_1[0][0] * x + bias_1[0]
    neuron_2 = kernel_1[1][0] * x + bias_1[1]
    return float(kernel_2[0][0] * neuron_1 + kernel_2[0][1] * neuron_2 + bias_2[0])


def network_output(layer_weights, x, hidden_activation=None):
    values = np.asarray(x, dtype=float)
    for i, (kernel, bias) in enumerate(layer_weights):
        values = kernel @ values + bias
        if hidden_activation == "relu" and i < len(layer_weights) - 1:
            values = np.maximum(values, 0)
    return values
