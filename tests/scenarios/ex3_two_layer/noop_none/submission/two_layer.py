def two_layer_output(layer_1_weights, layer_2_weights, x):
    return None


def network_output(layer_weights, x, hidden_activation=None):
    return None
