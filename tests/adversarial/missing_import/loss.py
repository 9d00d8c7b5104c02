"""Imports a package that is not installed."""
import tensorflow_made_up_package  # noqa: F401


def loss(predicted_y, target_y):
    return 0.0
