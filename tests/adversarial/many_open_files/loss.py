"""Opens files until it cannot (at most 5000)."""

HANDLES = []


def loss(predicted_y, target_y):
    for i in range(5000):
        HANDLES.append(open(f"f{i % 10}.txt", "w"))
    return 0.0
