import numpy as np
import tensorflow as tf
from tensorflow import keras


def build_perceptron(n_features):
    model = keras.models.Sequential()
    model.add(keras.layers.InputLayer(shape=(n_features,)))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Identity())
    model.add(keras.layers.Dense(units=1, activation=tf.nn.sigmoid))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=keras.losses.BinaryCrossentropy())
    return model


def train_perceptron(model, x, y):
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    return history


def predict_classes(model, x):
    probabilities = model.predict(x, verbose=0)
    return np.array([1 if p > 0.5 else 0 for p in probabilities[:, 0]])
