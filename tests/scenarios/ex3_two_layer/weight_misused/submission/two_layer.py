"""Exercise 3: compute a neural network's output by hand (a bias in the wrong neuron)."""

import numpy as np


def two_layer_output(layer_1_weights, layer_2_weights, x):
    """The output of Dense(2) -> Dense(1), linear activations, for the number `x`."""
    kernel_1, bias_1 = layer_1_weights
    kernel_2, bias_2 = layer_2_weights
    neuron_1 = kernel_1[0][0] * x + bias_1[0]
    neuron_2 = kernel_1[0][1] * x + bias_1[0]
    output = kernel_2[0][0] * neuron_1 + kernel_2[1][0] * neuron_2 + bias_2[0]
    return float(output)


def network_output(layer_weights, x, hidden_activation=None):
    """The output of a stack of Dense layers for the input vector `x`."""
    if hidden_activation not in (None, "relu"):
        raise ValueError(f"hidden_activation must be None or 'relu', not {hidden_activation!r}")
    values = np.asarray(x, dtype=np.float64).reshape(-1)
    last = len(layer_weights) - 1
    for i, (kernel, bias) in enumerate(layer_weights):
        values = values @ np.asarray(kernel) + np.asarray(bias)
        if hidden_activation == "relu" and i < last:
            values = np.maximum(values, 0.0)
    return values
