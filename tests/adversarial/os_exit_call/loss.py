"""Ends the process from a call."""
import os


def loss(predicted_y, target_y):
    os._exit(0)
