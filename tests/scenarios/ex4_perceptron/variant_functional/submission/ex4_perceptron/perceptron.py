import keras
import numpy as np


def build_perceptron(n_features):
    inputs = keras.Input(shape=(n_features,), name="features")
    outputs = keras.layers.Dense(units=1, activation=keras.activations.sigmoid, name="neuron")(inputs)
    model = keras.Model(inputs, outputs, name="perceptron")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss=keras.losses.BinaryCrossentropy())
    return model


def train_perceptron(model, x, y):
    history = model.fit(x, y, epochs=40, batch_size=64, shuffle=True, verbose=0)
    return history


def predict_classes(model, x):
    p = model.predict(x, verbose=0).reshape(-1)
    return np.where(p > 0.5, 1, 0)
