# Form from: Gangasagarhl/tiny_ML 2-1-6-MimimizingLoss.ipynb (a fork of the course Colab)
import tensorflow as tf


def loss(predicted_y, target_y):
    return tf.reduce_mean(tf.square(predicted_y - target_y))
