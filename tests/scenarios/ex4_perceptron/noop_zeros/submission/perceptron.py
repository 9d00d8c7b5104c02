import keras
import numpy as np


def build_perceptron(n_features):
    return np.zeros((n_features, 1))


def train_perceptron(model, x, y):
    return keras.callbacks.History()


def predict_classes(model, x):
    return np.zeros(len(x), dtype=np.int64)
