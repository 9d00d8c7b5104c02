# Form from: a Keras binary classifier script (Sequential, Dense(..., input_dim=3), compile(optimizer='adam', loss='binary_crossentropy')), adapted
import numpy as np
from tensorflow.keras.layers import Dense
from tensorflow.keras.models import Sequential


def build_perceptron(n_features):
    model = Sequential()
    model.add(Dense(1, input_dim=n_features, activation='sigmoid'))
    model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
    return model


def train_perceptron(model, x, y):
    return model.fit(x, y, epochs=50, batch_size=4, verbose=0)


def predict_classes(model, x):
    return np.round(model.predict(x, verbose=0)).astype(int).flatten()
