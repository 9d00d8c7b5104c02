"""What came back from student code, validated before any comparison.

The runner describes each returned value as plain data (its kind, its type's
name, and numbers). Checks read it through `Returned`, whose accessors fail
the check with a clear message when the value is not what was asked for: an
object with a lying `__eq__` or `__float__` never reaches the judge as
anything but its type's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

ARRAY_KINDS = ("tensor", "variable", "ndarray", "numpy_scalar")
SCALAR_KINDS = ("float", "int", "bool")
KINDS = ARRAY_KINDS + SCALAR_KINDS + ("str", "none", "list", "tuple", "dict", "bytes", "object")


class MalformedValue(Exception):
    """The runner's description of a value is not well-formed (a tampered runner)."""


@dataclass(frozen=True)
class Returned:
    kind: str
    type_name: str
    value: Any = None

    @classmethod
    def from_wire(cls, d: object) -> "Returned":
        if type(d) is not dict or d.get("kind") not in KINDS or type(d.get("type")) is not str:
            raise MalformedValue("not a value description")
        kind, v = d["kind"], d.get("value")
        expect = {
            "float": (float, int), "int": (int,), "bool": (bool,), "str": (str,), "bytes": (bytes,),
            "ndarray": (np.ndarray,), "tensor": (np.ndarray,), "variable": (np.ndarray,),
            "numpy_scalar": (np.ndarray,), "list": (list,), "tuple": (list, tuple), "dict": (dict,),
        }.get(kind)
        if expect is not None and type(v) not in expect:
            raise MalformedValue(f"{kind} carrying {type(v).__name__}")
        if kind in ("list", "tuple"):
            v = [cls.from_wire(i) for i in v]
        elif kind == "dict":
            v = {str(k): cls.from_wire(i) for k, i in v.items()}
        elif kind == "float":
            v = float(v)
        elif kind in ("none", "object"):
            v = None
        return cls(kind, d["type"][:100], v)

    # -- accessors that fail the check with the student's words ----------------

    @property
    def dtype(self) -> str | None:
        return str(self.value.dtype) if self.kind in ARRAY_KINDS else None

    @property
    def shape(self) -> tuple[int, ...] | None:
        return tuple(self.value.shape) if self.kind in ARRAY_KINDS else None

    def describe(self) -> str:
        """How the student would recognise what they returned."""
        if self.kind in ARRAY_KINDS and self.kind != "numpy_scalar":
            return f"a {self.type_name} of shape {self.shape} and dtype {self.dtype}"
        if self.kind in ("list", "tuple"):
            return f"a {self.kind} of {len(self.value)} items"
        if self.kind == "none":
            return "None"
        return f"a {self.type_name}"

    def as_float(self, what: str) -> float:
        if self.kind in SCALAR_KINDS and self.kind != "bool":
            x = float(self.value)
        elif self.kind in ARRAY_KINDS and self.value.size == 1 and self.value.dtype.kind in "iuf":
            x = float(self.value.reshape(-1)[0])
        else:
            raise AssertionError(f"Expected a number from {what}, got {self.describe()}.")
        if not np.isfinite(x):
            raise AssertionError(f"{what} returned {x}: expected a finite number.")
        return x

    def as_array(self, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        if self.kind in ARRAY_KINDS:
            arr = self.value
        elif self.kind in SCALAR_KINDS and self.kind != "bool":
            arr = np.asarray(self.value, dtype=np.float64)
        elif self.kind in ("list", "tuple") and all(i.kind in SCALAR_KINDS for i in self.value):
            arr = np.asarray([i.value for i in self.value], dtype=np.float64)
        else:
            raise AssertionError(f"Expected an array of numbers from {what}, got {self.describe()}.")
        if arr.dtype.kind not in "iuf":
            raise AssertionError(f"Expected numbers from {what}, got an array of dtype {arr.dtype}.")
        if shape is not None and tuple(arr.shape) != tuple(shape):
            raise AssertionError(f"Expected {what} to have shape {tuple(shape)}, got shape {tuple(arr.shape)}.")
        if not np.all(np.isfinite(arr)):
            raise AssertionError(f"{what} contains NaN or infinite values.")
        return arr

    def plain(self) -> Any:
        """The value with nested `Returned` unwrapped: lists, dicts, arrays and scalars."""
        if self.kind in ("list", "tuple"):
            return [i.plain() for i in self.value]
        if self.kind == "dict":
            return {k: v.plain() for k, v in self.value.items()}
        return self.value

    def as_bytes(self, what: str) -> bytes:
        if self.kind != "bytes":
            raise AssertionError(f"Expected bytes from {what}, got {self.describe()}.")
        return self.value
