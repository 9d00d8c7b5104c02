def build_perceptron(n_features):
    return None


def train_perceptron(model, x, y):
    return None


def predict_classes(model, x):
    return None
