# Form from: Coursera ML Specialization my_sequential (the same activation on each my_dense), adapted
import numpy as np


def two_layer_output(layer_1_weights, layer_2_weights, x):
    (W1, b1), (W2, b2) = layer_1_weights, layer_2_weights
    a1 = np.dot(np.array([x]), W1) + b1
    return float((np.dot(a1, W2) + b2)[0])


def network_output(layer_weights, x, hidden_activation=None):
    a = np.array(x, dtype=np.float64).reshape(-1)
    for W, b in layer_weights:
        a = np.dot(a, W) + b
        if hidden_activation == "relu":
            a = np.maximum(0, a)
    return a
