"""Starts sleeping threads until stopped (self-limiting: at most 2000, each ends within 60 s)."""
import threading
import time


def loss(predicted_y, target_y):
    for _ in range(2000):
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    return 0.0
