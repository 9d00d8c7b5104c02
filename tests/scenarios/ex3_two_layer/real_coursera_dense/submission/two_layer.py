# Form from: Coursera ML Specialization my_dense / Xl2 = np.maximum(0, np.dot(X, W1) + b1) (public lab copy), adapted
import numpy as np


def my_dense(a_in, W, b, g=None):
    z = np.dot(a_in, W) + b
    return g(z) if g is not None else z


def relu(z):
    return np.maximum(0, z)


def two_layer_output(layer_1_weights, layer_2_weights, x):
    W1, b1 = layer_1_weights
    W2, b2 = layer_2_weights
    a1 = my_dense(np.array([x]), W1, b1)
    a2 = my_dense(a1, W2, b2)
    return a2[0]


def network_output(layer_weights, x, hidden_activation=None):
    a = np.array(x, dtype=np.float64).reshape(-1)
    for i, (W, b) in enumerate(layer_weights):
        hidden = i < len(layer_weights) - 1
        a = my_dense(a, W, b, relu if hidden and hidden_activation == "relu" else None)
    return a
