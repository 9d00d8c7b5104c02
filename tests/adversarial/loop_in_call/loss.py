"""Never returns from a call."""


def loss(predicted_y, target_y):
    while True:
        pass
