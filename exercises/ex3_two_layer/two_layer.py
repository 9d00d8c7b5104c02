"""Exercise 3: compute a neural network's output by hand.

Each layer's weights are what Keras' `layer.get_weights()` returns:
`[kernel, bias]`, where `kernel` has shape (inputs, units) and `bias` has
shape (units,). Do the arithmetic yourself, with NumPy or plain Python:
calling a Keras layer or model is not allowed in this exercise.
"""

import numpy as np


def two_layer_output(layer_1_weights, layer_2_weights, x):
    """The output of Dense(2) -> Dense(1), linear activations, for the number `x`.

    layer_1_weights: [kernel of shape (1, 2), bias of shape (2,)], the two neurons of layer 1
    layer_2_weights: [kernel of shape (2, 1), bias of shape (1,)], the one neuron of layer 2
    x: a number

    Returns the output as a Python float.
    """
    # TODO: the output of each neuron of layer 1: its weight times x, plus its bias
    # TODO: the neuron of layer 2: a weight for each layer-1 output, plus its bias
    raise NotImplementedError("two_layer_output is not written yet")


def network_output(layer_weights, x, hidden_activation=None):
    """The output of a stack of Dense layers for the input vector `x`.

    layer_weights: one [kernel, bias] pair per layer, first layer first
    x: a 1-D input vector (a list or a NumPy array)
    hidden_activation: None (linear) or "relu", applied to every layer but the last

    Returns a 1-D NumPy array, one value per neuron of the last layer.
    """
    # TODO: for each layer, the outputs are the inputs times the kernel, plus the bias
    # TODO: apply ReLU (max(0, value)) after every layer except the last one, if asked
    raise NotImplementedError("network_output is not written yet")
