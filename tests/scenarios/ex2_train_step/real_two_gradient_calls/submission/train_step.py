# Form from: a GradientTape linear fit asking for w_gradient and b_gradient separately (public snippet), without persistent=True
import tensorflow as tf


class Model:
    def __init__(self):
        self.w = tf.Variable(10.0)
        self.b = tf.Variable(10.0)

    def __call__(self, x):
        return self.w * x + self.b


def loss(predicted_y, target_y):
    return tf.reduce_mean(tf.square(predicted_y - target_y))


def train(model, xs, ys, learning_rate):
    with tf.GradientTape() as tape:
        current_loss = loss(model(xs), ys)
    w_gradient = tape.gradient(current_loss, model.w)
    b_gradient = tape.gradient(current_loss, model.b)
    model.w.assign_sub(w_gradient * learning_rate)
    model.b.assign_sub(b_gradient * learning_rate)
    return current_loss


def fit(model, xs, ys, epochs, learning_rate):
    losses = []
    for _ in range(epochs):
        losses.append(float(train(model, xs, ys, learning_rate)))
    return losses
