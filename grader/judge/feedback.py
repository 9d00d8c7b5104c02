"""What a check raises to give the student feedback.

A plain `assert cond, "message"` fails the check with that message. A
`Mistake` fails it *and* names a known misconception, which the report carries
in the check's `mistake` field.
"""

from __future__ import annotations


class Mistake(AssertionError):
    """A failed check that recognised a known mistake."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message


def fmt(x: object, digits: int = 6) -> str:
    """A number or short array as the student should read it."""
    import numpy as np

    if isinstance(x, (float, np.floating)):
        return f"{float(x):.{digits}g}"
    if isinstance(x, np.ndarray):
        with np.printoptions(precision=digits, suppress=True, threshold=12, edgeitems=3):
            return np.array2string(x, separator=", ")
    return repr(x)
