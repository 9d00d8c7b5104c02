def loss(predicted_y, target_y):
    return predicted_y
