"""Grows by touched 64 MiB chunks until something stops it (at most 8 GiB)."""


def loss(predicted_y, target_y):
    chunks = []
    for _ in range(128):
        chunks.append(bytearray(64 << 20))
    return 0.0
