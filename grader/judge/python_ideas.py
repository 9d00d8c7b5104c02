"""The idea to revisit when student code stopped on a plain Python error, not on the exercise's maths.

A check's own hint teaches its part of the exercise ("ReLU goes after every hidden layer");
shown next to a `NameError` it sends the student after the wrong thing. For the errors that
say nothing about the maths, the idea is Python's.
"""

from __future__ import annotations

IDEAS = {
    "NameError": "A NameError means Python met a name that nothing defined at that point: check its spelling "
                 "against where you defined it, and that it is defined or imported at the top level of your file "
                 "(in a notebook: in a cell that is graded, not computed by top-level code).",
    "UnboundLocalError": "An UnboundLocalError means a variable was read in a function before the function gave it "
                         "a value: assign it first on every path (an `if` without an `else` can skip it), or pass "
                         "it in as an argument.",
    "ModuleNotFoundError": "A ModuleNotFoundError means an import names a module the grader does not have: use "
                           "the course's libraries (numpy, tensorflow, keras) and check the module's spelling.",
    "ImportError": "An ImportError means an import names something its module does not have: check the name and "
                   "where it lives (for example keras.layers.Dense, not keras.Dense).",
    "SyntaxError": "A SyntaxError means Python could not read the code: look at the line named, and the one "
                   "before it, for a missing colon, bracket or quote.",
    "IndentationError": "An IndentationError means a block is not indented as Python expects: the body of a def, "
                        "for or if is indented one level (4 spaces) more than its first line, every line alike.",
    "RecursionError": "A RecursionError means a function called itself without end: check that each call works "
                      "on something smaller and that there is a case which returns without calling again.",
}


def idea(exc_type: str | None) -> str | None:
    """The idea to revisit for an exception of this type, when it is a plain Python error; else None."""
    return IDEAS.get(exc_type or "")
