"""Whether the shipped stubs are still stubs: an instructor's solved copy must never ship to students."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

from grader import catalog


def _only_raises_not_implemented(fn: ast.FunctionDef) -> bool:
    body = list(fn.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring
    body = [stmt for stmt in body if not isinstance(stmt, ast.Pass)]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def is_pristine_stub(ex: catalog.Exercise, path: Path | None = None) -> bool:
    """Whether the exercise's stub file is still a stub: every student function only raises NotImplementedError."""
    path = path or ex.stub_path
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return False
    defined = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    return all(name in defined and _only_raises_not_implemented(defined[name]) for name in ex.functions)


def edited_stubs(exercises: Sequence[catalog.Exercise]) -> list[str]:
    """The stub files that are no longer stubs (an instructor's own solved copy?), as paths from the course's parent."""
    return [ex.stub_path.relative_to(catalog.exercises_dir().parent).as_posix() for ex in exercises
            if ex.stub_path.is_file() and not is_pristine_stub(ex)]  # fmt: skip
