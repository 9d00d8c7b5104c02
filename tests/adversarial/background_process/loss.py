"""A correct loss that leaves processes behind: a new session, a double-forked daemon, a thread."""
import os
import subprocess
import sys
import threading
import time

import tensorflow as tf

subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)  # __MARKER__"], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)  # __MARKER__"])
    os._exit(0)
threading.Thread(target=time.sleep, args=(600,), daemon=True).start()


def loss(predicted_y, target_y):
    p = tf.reshape(tf.cast(tf.convert_to_tensor(predicted_y), tf.float32), [-1])
    t = tf.reshape(tf.cast(tf.convert_to_tensor(target_y), tf.float32), [-1])
    return tf.reduce_mean(tf.square(p - t))
