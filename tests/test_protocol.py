"""The judge/runner wire format carries plain data only, and refuses anything else."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct

import numpy as np
import pytest

from grader.judge.values import MalformedValue, Returned
from grader.runner import protocol


def roundtrip(obj, markers=None):
    r, w = os.pipe()
    try:
        protocol.write_message(w, obj)
        os.close(w)
        return protocol.Reader(r).read_blocking(markers=markers)
    finally:
        os.close(r)


def raw_message(body, blobs=()):
    head = json.dumps({"body": body, "blobs": [len(b) for b in blobs]}).encode()
    r, w = os.pipe()
    os.write(w, struct.pack(">Q", len(head)) + head + b"".join(blobs))
    os.close(w)
    return protocol.Reader(r)


def test_plain_values_roundtrip_exactly():
    value = {"a": [1, 2.5, None, True, "x"], "t": (1, (2, 3)), "nan": float("nan"), "b": b"\x00\x01",
             "arr": np.arange(6, dtype=np.int8).reshape(2, 3), "scalar": np.array(3.5, dtype=np.float32)}
    back = roundtrip(value)
    assert back["a"] == value["a"] and back["t"] == value["t"] and back["b"] == value["b"]
    assert np.isnan(back["nan"])
    assert back["arr"].dtype == np.int8 and back["arr"].shape == (2, 3) and (back["arr"] == value["arr"]).all()
    assert back["scalar"].shape == () and back["scalar"].dtype == np.float32


@pytest.mark.parametrize("bad", [object(), {1: 2}, np.array([object()]), np.array(["text"]), {1.5}])
def test_encoding_refuses_what_is_not_plain_data(bad):
    with pytest.raises(protocol.ProtocolError):
        protocol.encode(bad)


def test_a_pickled_array_is_refused_not_loaded():
    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(protocol.ProtocolError):
        raw_message({"$npy": 0}, [buf.getvalue()]).read_blocking()


def test_raw_pickle_bytes_stay_bytes():
    payload = pickle.dumps({"x": 1})
    assert raw_message({"$bytes": 0}, [payload]).read_blocking() == payload


@pytest.mark.parametrize("body", [{"$npy": 5}, {"$eval": "1"}, {"$tensor": 0}, {"a": 1, "b": 2}])
def test_unknown_tags_and_markers_are_refused(body):
    buf = io.BytesIO()
    np.save(buf, np.zeros(2))
    with pytest.raises(protocol.ProtocolError):
        raw_message(body, [buf.getvalue()]).read_blocking()


def test_markers_are_built_only_where_accepted():
    got = roundtrip([protocol.Tensor(np.ones(2))], markers={"$tensor": lambda a: ("T", a.sum())})
    assert got == [("T", 2.0)]


def test_returned_values_are_validated_by_kind():
    assert Returned.from_wire({"kind": "float", "type": "float", "value": 2.0}).as_float("f()") == 2.0
    liar = Returned.from_wire({"kind": "object", "type": "MyFloat"})
    with pytest.raises(AssertionError, match="got a MyFloat"):
        liar.as_float("loss()")
    with pytest.raises(MalformedValue):
        Returned.from_wire({"kind": "tensor", "type": "tf.Tensor", "value": 3.0})
    with pytest.raises(AssertionError, match="finite"):
        Returned.from_wire({"kind": "float", "type": "float", "value": float("inf")}).as_float("loss()")
    vec = Returned.from_wire({"kind": "ndarray", "type": "numpy.ndarray", "value": np.ones(3)})
    with pytest.raises(AssertionError, match=r"shape \(2,\)"):
        vec.as_array("x", shape=(2,))
