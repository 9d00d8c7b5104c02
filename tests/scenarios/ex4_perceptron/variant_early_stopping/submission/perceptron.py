import keras
import numpy as np

EPOCHS = 50


def build_perceptron(n_features):
    model = keras.Sequential(
        [keras.layers.Input((n_features,)), keras.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(keras.optimizers.RMSprop(0.05), "binary_crossentropy", metrics=["accuracy"])
    return model


def train_perceptron(model, x, y):
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    return model.fit(x, y, validation_split=0.2, epochs=EPOCHS, batch_size=32, callbacks=[stop], verbose=0)


def predict_classes(model, x):
    labels = []
    for p in model.predict(x, verbose=0):
        labels.append(1 if p[0] > 0.5 else 0)
    return np.array(labels)
