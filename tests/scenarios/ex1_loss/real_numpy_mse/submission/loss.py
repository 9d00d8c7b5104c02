# Form from: Sentdex/nnfs_book-style NumPy losses (np.mean((y_pred - y_true) ** 2)), adapted to flatten the inputs
import numpy as np


def loss(predicted_y, target_y):
    y_pred = np.asarray(predicted_y, dtype=np.float32).reshape(-1)
    y_true = np.asarray(target_y, dtype=np.float32).reshape(-1)
    return np.mean((y_pred - y_true) ** 2)
