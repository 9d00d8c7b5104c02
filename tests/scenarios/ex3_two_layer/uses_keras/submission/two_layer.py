import numpy as np
import tensorflow as tf


def _model(layer_weights, n_inputs, hidden_activation):
    layers = [tf.keras.Input((n_inputs,))]
    for i, (kernel, _) in enumerate(layer_weights):
        last = i == len(layer_weights) - 1
        layers.append(tf.keras.layers.Dense(kernel.shape[1], activation=None if last else hidden_activation))
    model = tf.keras.Sequential(layers)
    model.set_weights([w for pair in layer_weights for w in pair])
    return model


def two_layer_output(layer_1_weights, layer_2_weights, x):
    model = _model([layer_1_weights, layer_2_weights], 1, None)
    return float(model.predict(np.array([[x]]), verbose=0)[0][0])


def network_output(layer_weights, x, hidden_activation=None):
    x = np.asarray(x, dtype=np.float32).reshape(1, -1)
    return model_output(_model(layer_weights, x.shape[1], hidden_activation), x)


def model_output(model, x):
    return model(x).numpy()[0]
