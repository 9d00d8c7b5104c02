# Form from: the course's by-hand two-layer arithmetic with layer_1_w1 and layer_1_b1 exchanged, a slip seen in forks
import numpy as np


def two_layer_output(layer_1_weights, layer_2_weights, x):
    layer_1_w1 = layer_1_weights[0][0][0]
    layer_1_w2 = layer_1_weights[0][0][1]
    layer_1_b1 = layer_1_weights[1][0]
    layer_1_b2 = layer_1_weights[1][1]
    layer_2_w1 = layer_2_weights[0][0][0]
    layer_2_w2 = layer_2_weights[0][1][0]
    layer_2_b = layer_2_weights[1][0]
    neuron1_output = (layer_1_b1 * x) + layer_1_w1
    neuron2_output = (layer_1_w2 * x) + layer_1_b2
    return (layer_2_w1 * neuron1_output) + (layer_2_w2 * neuron2_output) + layer_2_b


def network_output(layer_weights, x, hidden_activation=None):
    values = np.asarray(x, dtype=np.float64).reshape(-1)
    for i, (kernel, bias) in enumerate(layer_weights):
        values = values @ kernel + bias
        if hidden_activation == "relu" and i < len(layer_weights) - 1:
            values = np.maximum(values, 0)
    return values
