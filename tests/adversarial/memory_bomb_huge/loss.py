"""Asks for 50 GB at once."""
import numpy as np


def loss(predicted_y, target_y):
    big = np.ones(50 * 10**9 // 8)
    return float(big.sum())
