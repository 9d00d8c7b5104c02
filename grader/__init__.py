"""tinyml-grader: autograded TinyML exercises with a sandboxed judge.

In a notebook: `from grader import check, hint`. Importing this package stays light (no
TensorFlow, NumPy or pytest): `check` loads what it needs when it runs.
"""

import sys as _sys

__version__ = "0.1.0"


def check(exercise, **functions):
    """Grade exercise `exercise` (1-5 or its slug) with the functions defined in this notebook.

    The exercise's functions are found in the notebook (or passed by keyword:
    `check(2, train=train, fit=fit)`) and graded in a separate, sandboxed process, exactly as
    `grade exercise N` grades the same code in the student file. Returns a result that shows
    itself as an HTML card in Jupyter and Colab and as text elsewhere; `.report` is the JSON report.
    """
    from grader.notebook.check import check as _check

    return _check(exercise, _sys._getframe(1), functions)


def hint(exercise, level=None):
    """The next hint for exercise `exercise`, earlier ones folded (the same progress as `grade hint`)."""
    from grader.notebook.check import hint as _hint

    return _hint(exercise, level)
