# Form from: tensorflow/docs site/en/guide/basic_training_loops.ipynb (train without a return), with the course's fit
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
    with tf.GradientTape() as t:
        current_loss = loss(model(xs), ys)
    dw, db = t.gradient(current_loss, [model.w, model.b])
    model.w.assign_sub(learning_rate * dw)
    model.b.assign_sub(learning_rate * db)


def fit(model, xs, ys, epochs, learning_rate):
    losses = []
    for epoch in range(epochs):
        losses.append(float(train(model, xs, ys, learning_rate)))
    return losses
