"""Writes into the home directory of the user running the grader and plants a usercustomize.py in
that user's site-packages, which every later `python` of that user would import (a grader that is
not started with -I, say); the loss itself is honest.

The test puts the real paths in place of __HOME__ and __USER_SITE__ (the worst case: the attacker
knows them). Prints REACHED for every write that worked."""
import os

import tensorflow as tf

PLANTED = {
    "__HOME__/planted-by-student.txt": "written by a student's loss.py\n",
    "__HOME__/.bashrc": "echo owned  # written by a student's loss.py\n",
    "__USER_SITE__/usercustomize.py": "open('__HOME__/usercustomize-was-imported', 'w').close()\n",
}
for path, text in PLANTED.items() if os.path.isdir("__HOME__") else ():  # not a private /tmp's new folder
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as f:
            f.write(text)
        print("REACHED", path)
    except OSError as e:
        print("not written:", path, e.strerror)


def loss(predicted_y, target_y):
    p = tf.reshape(tf.cast(tf.convert_to_tensor(predicted_y), tf.float32), [-1])
    t = tf.reshape(tf.cast(tf.convert_to_tensor(target_y), tf.float32), [-1])
    return tf.reduce_mean(tf.square(p - t))
