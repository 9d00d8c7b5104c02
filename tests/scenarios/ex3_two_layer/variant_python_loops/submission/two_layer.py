import numpy as np


def two_layer_output(layer_1_weights, layer_2_weights, x):
    (w1, w2), (b1, b2) = layer_1_weights[0][0], layer_1_weights[1]
    n1 = w1 * x + b1
    n2 = w2 * x + b2
    (v1,), (v2,) = layer_2_weights[0]
    return float(v1 * n1 + v2 * n2 + layer_2_weights[1][0])


def relu(value):
    return value if value > 0 else 0.0


def network_output(layer_weights, x, hidden_activation=None):
    inputs = [float(v) for v in x]
    for index, (kernel, bias) in enumerate(layer_weights):
        outputs = []
        for neuron in range(len(bias)):
            total = float(bias[neuron])
            for i, value in enumerate(inputs):
                total += value * float(kernel[i][neuron])
            outputs.append(total)
        hidden = index < len(layer_weights) - 1
        inputs = [relu(v) for v in outputs] if hidden and hidden_activation == "relu" else outputs
    return np.array(inputs)
