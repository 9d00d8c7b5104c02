# Form from: Gangasagarhl/tiny_ML 2-1-6-MimimizingLoss.ipynb (the course's train), fit written as a while loop
import tensorflow as tf


class Model:
    def __init__(self):
        self.w = tf.Variable(10.0)
        self.b = tf.Variable(10.0)

    def __call__(self, x):
        return self.w * x + self.b


def loss(predicted_y, target_y):
    return tf.reduce_mean(tf.square(predicted_y - target_y))


def train(model, inputs, outputs, learning_rate):
    with tf.GradientTape() as t:
        current_loss = loss(model(inputs), outputs)
        # Here is where you differentiate the model values with respect to the loss function
        dw, db = t.gradient(current_loss, [model.w, model.b])
        # And here is where you update the model values based on the learning rate chosen
        model.w.assign_sub(learning_rate * dw)
        model.b.assign_sub(learning_rate * db)
        return current_loss


def fit(model, xs, ys, epochs, learning_rate):
    losses = []
    epoch = 0
    while epoch < epochs:
        current_loss = train(model, xs, ys, learning_rate=learning_rate)
        losses.append(float(current_loss.numpy()))
        epoch += 1
    return losses
