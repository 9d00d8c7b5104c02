def build_perceptron(n_features):
    return n_features


def train_perceptron(model, x, y):
    return model


def predict_classes(model, x):
    return x
