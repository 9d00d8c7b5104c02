# Form from: Coursera Machine Learning Specialization, compute_gradient (dj_dw = 1/m * sum(err * x)), adapted
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
    x = tf.constant(xs, dtype=tf.float32)
    y = tf.constant(ys, dtype=tf.float32)
    current_loss = loss(model(x), y)
    err = model(x) - y
    dj_dw = tf.reduce_mean(err * x)
    dj_db = tf.reduce_mean(err)
    model.w.assign_sub(learning_rate * dj_dw)
    model.b.assign_sub(learning_rate * dj_db)
    return current_loss


def fit(model, xs, ys, epochs, learning_rate):
    losses = []
    for _ in range(epochs):
        losses.append(float(train(model, xs, ys, learning_rate)))
    return losses
