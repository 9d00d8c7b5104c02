"""Plain-data messages between the judge and the runner. Never pickle.

A message is an 8-byte big-endian length, a UTF-8 JSON header, then the
binary blobs the header lists. JSON carries None, bool, int, float, str and
lists; everything else is a one-key object with a `$` tag:

    {"$float": "nan"}      non-finite floats
    {"$tuple": [...]}      tuples
    {"$dict": [[k, v]...]} dicts with str keys
    {"$npy": i}            NumPy array, blob i in .npy format (allow_pickle=False)
    {"$bytes": i}          bytes, blob i
    {"$tensor": i} / {"$variable": i}   judge -> runner only: build tf.constant / tf.Variable

This file is imported both by the judge (as `grader.runner.protocol`) and by
the runner child (as a top-level module): it must depend on NumPy only.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
from dataclasses import dataclass

import numpy as np

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 32
_ALLOWED_DTYPE_KINDS = "biufc"  # bool, int, uint, float, complex: never object


class ProtocolError(Exception):
    """A message that is not plain data, or not well-formed."""


@dataclass(frozen=True)
class Tensor:
    """An argument the runner should pass as `tf.constant(array)`."""

    array: np.ndarray


@dataclass(frozen=True)
class Variable:
    """An argument the runner should pass as `tf.Variable(array)`."""

    array: np.ndarray


def _npy_bytes(a: np.ndarray) -> bytes:
    if a.dtype.kind not in _ALLOWED_DTYPE_KINDS:
        raise ProtocolError(f"arrays of dtype {a.dtype} cannot cross the process boundary")
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def encode(obj: object) -> tuple[object, list[bytes]]:
    blobs: list[bytes] = []

    def enc(x: object, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise ProtocolError("value nested too deeply")
        if x is None or type(x) in (bool, int, str):
            return x
        if type(x) is float:
            return x if math.isfinite(x) else {"$float": repr(x)}
        if type(x) is list:
            return [enc(v, depth + 1) for v in x]
        if type(x) is tuple:
            return {"$tuple": [enc(v, depth + 1) for v in x]}
        if type(x) is dict:
            if not all(type(k) is str for k in x):
                raise ProtocolError("only dicts with str keys cross the process boundary")
            return {"$dict": [[k, enc(v, depth + 1)] for k, v in x.items()]}
        if type(x) is bytes:
            blobs.append(x)
            return {"$bytes": len(blobs) - 1}
        if type(x) is np.ndarray:
            blobs.append(_npy_bytes(x))
            return {"$npy": len(blobs) - 1}
        if isinstance(x, (Tensor, Variable)):
            blobs.append(_npy_bytes(np.asarray(x.array)))
            return {"$tensor" if isinstance(x, Tensor) else "$variable": len(blobs) - 1}
        raise ProtocolError(f"{type(x).__name__} is not plain data")

    return enc(obj, 0), blobs


def decode(header: object, blobs: list[bytes], *, markers: dict | None = None) -> object:
    """Rebuild plain data. `markers` maps `$tensor`/`$variable` to constructors (runner side)."""

    def dec(x: object, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise ProtocolError("value nested too deeply")
        if x is None or type(x) in (bool, int, float, str):
            return x
        if type(x) is list:
            return [dec(v, depth + 1) for v in x]
        if type(x) is dict and len(x) == 1:
            (tag, v), = x.items()
            if tag == "$float" and v in ("nan", "inf", "-inf"):
                return float(v)
            if tag == "$tuple" and type(v) is list:
                return tuple(dec(i, depth + 1) for i in v)
            if tag == "$dict" and type(v) is list:
                out = {}
                for pair in v:
                    if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                        raise ProtocolError("malformed dict")
                    out[pair[0]] = dec(pair[1], depth + 1)
                return out
            if tag in ("$bytes", "$npy", "$tensor", "$variable") and type(v) is int and 0 <= v < len(blobs):
                if tag == "$bytes":
                    return blobs[v]
                try:
                    arr = np.load(io.BytesIO(blobs[v]), allow_pickle=False)
                except Exception as e:  # malformed .npy from an untrusted peer
                    raise ProtocolError(f"malformed array: {e}") from None
                if type(arr) is not np.ndarray or arr.dtype.kind not in _ALLOWED_DTYPE_KINDS:
                    raise ProtocolError("array of a dtype that is not plain numbers")
                if tag == "$npy":
                    return arr
                if markers is None or tag not in markers:
                    raise ProtocolError(f"{tag} is not accepted here")
                return markers[tag](arr)
        raise ProtocolError(f"not plain data: {str(x)[:80]}")

    return dec(header, 0)


def write_message(fd: int, obj: object) -> None:
    header, blobs = encode(obj)
    head = json.dumps({"body": header, "blobs": [len(b) for b in blobs]}, allow_nan=False).encode()
    data = b"".join([struct.pack(">Q", len(head)), head, *blobs])
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class Reader:
    """Reads messages from a file descriptor; the judge side drives it with a deadline."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = bytearray()

    def feed(self, chunk: bytes) -> None:
        self.buf += chunk

    def take(self, *, markers: dict | None = None) -> tuple[bool, object]:
        """(True, message) once a whole message is buffered, else (False, None)."""
        if len(self.buf) < 8:
            return False, None
        (head_len,) = struct.unpack(">Q", self.buf[:8])
        if head_len > MAX_MESSAGE_BYTES:
            raise ProtocolError("message header too large")
        if len(self.buf) < 8 + head_len:
            return False, None
        try:
            head = json.loads(bytes(self.buf[8 : 8 + head_len]))
            sizes = head["blobs"]
            if type(sizes) is not list or not all(type(s) is int and s >= 0 for s in sizes):
                raise ProtocolError("malformed blob list")
        except (ValueError, KeyError, TypeError) as e:
            raise ProtocolError(f"malformed message header: {e}") from None
        total = 8 + head_len + sum(sizes)
        if total > MAX_MESSAGE_BYTES:
            raise ProtocolError("message too large")
        if len(self.buf) < total:
            return False, None
        blobs, pos = [], 8 + head_len
        for s in sizes:
            blobs.append(bytes(self.buf[pos : pos + s]))
            pos += s
        del self.buf[:total]
        return True, decode(head["body"], blobs, markers=markers)

    def read_blocking(self, *, markers: dict | None = None) -> object:
        while True:
            ok, msg = self.take(markers=markers)
            if ok:
                return msg
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise EOFError
            self.feed(chunk)
