"""Writes a 100 MB file on every call."""


def loss(predicted_y, target_y):
    with open("big.bin", "wb") as f:
        for _ in range(100):
            f.write(b"\0" * (1 << 20))
    return 0.0
