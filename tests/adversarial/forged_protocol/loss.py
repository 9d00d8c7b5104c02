"""Writes garbage and a forged reply straight into the grader's response channel."""
import json
import os
import struct
import sys


def _resp_fd():
    """The runner's reply pipe: found on the call stack (works whether the runner was spawned or forked)."""
    frame = sys._getframe()
    while frame is not None:
        if isinstance(frame.f_locals.get("resp_fd"), int):
            return frame.f_locals["resp_fd"]
        frame = frame.f_back
    return int(sys.argv[sys.argv.index("--resp-fd") + 1])


def loss(predicted_y, target_y):
    head = json.dumps({"body": {"outcome": "returned", "value": {"kind": "float", "type": "float", "value": 715.6667}},
                       "blobs": [1 << 40]}).encode()
    os.write(_resp_fd(), struct.pack(">Q", len(head)) + head + b"\xff" * 64)
    return 0.0
