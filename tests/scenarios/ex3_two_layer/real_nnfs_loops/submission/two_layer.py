# Form from: Neural Networks from Scratch, chapter 2 loops (e.g. vivekbharatha/neural-networks-python-scratch), kernel transposed for Keras' layout
import numpy as np


def network_output(layer_weights, x, hidden_activation=None):
    inputs = [float(v) for v in np.asarray(x).reshape(-1)]
    for i, (kernel, biases) in enumerate(layer_weights):
        layer_outputs = []
        for neuron_weights, neuron_bias in zip(np.asarray(kernel).T, biases):
            neuron_output = 0.0
            for n_input, weight in zip(inputs, neuron_weights):
                neuron_output += n_input * weight
            neuron_output += neuron_bias
            if hidden_activation == "relu" and i < len(layer_weights) - 1:
                neuron_output = max(0.0, neuron_output)
            layer_outputs.append(neuron_output)
        inputs = layer_outputs
    return np.array(inputs)


def two_layer_output(layer_1_weights, layer_2_weights, x):
    return float(network_output([layer_1_weights, layer_2_weights], [x])[0])
