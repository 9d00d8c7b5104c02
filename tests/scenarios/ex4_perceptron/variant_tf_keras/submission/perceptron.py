import numpy as np
import tensorflow as tf


def build_perceptron(n_features):
    model = tf.keras.Sequential()
    model.add(tf.keras.layers.Dense(1, activation="sigmoid", input_shape=(n_features,)))
    model.compile(optimizer=tf.keras.optimizers.Adam(0.1), loss=tf.keras.losses.binary_crossentropy,
                  metrics=["accuracy"])
    return model


def train_perceptron(model, x, y):
    return model.fit(np.asarray(x), np.asarray(y), epochs=150, batch_size=len(x), verbose=0)


def predict_classes(model, x):
    probabilities = model(np.asarray(x, dtype=np.float32)).numpy()
    return (probabilities >= 0.5).astype("int32").ravel()
