# Form from: the np.random.shuffle(X); np.random.shuffle(y) slip (shuffling two arrays independently), in a course-style train
import numpy as np
import tensorflow as tf


def build_perceptron(n_features):
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(n_features,)),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def train_perceptron(model, x, y):
    x, y = np.array(x), np.array(y)
    np.random.shuffle(x)
    np.random.shuffle(y)
    return model.fit(x, y, epochs=30, batch_size=32, verbose=0)


def predict_classes(model, x):
    return (model.predict(x, verbose=0)[:, 0] > 0.5).astype(int)
