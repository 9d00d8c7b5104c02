"""The student file from a live kernel: the exercise's functions as they are now, written as source.

`check(N)` runs in the student's kernel, where the functions are objects. This module turns
them back into a file the grader can run in its sandbox, with no pickle: each function's
source (`inspect.getsource`, which reads notebook cells through `linecache`), and for every
global it uses, source that recreates it: an import, another function or class of the
notebook (recursively), or a literal constant. A global that is a value computed by running
code (a tensor, a trained model) cannot be written so: `extract.Unwritable` names it.

Import statements are taken as the student wrote them when the kernel's cell history (or
the caller's file) has one that binds the same object; otherwise they are derived from the
module or the object's `__module__`.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import linecache
import math
import sys
import textwrap
import types
from collections.abc import Mapping

from grader.notebook import assemble, extract

_LITERAL_TYPES = (int, float, complex, str, bytes, bool, type(None))
_MAX_LITERAL = 100_000


def caller_namespace(frame: types.FrameType) -> dict:
    """What the notebook sees: IPython's user namespace, then the caller's globals and locals."""
    namespace: dict = {}
    shell = _ipython()
    if shell is not None:
        namespace.update(shell.user_ns)
    namespace.update(frame.f_globals)
    if frame.f_locals is not frame.f_globals:
        namespace.update(frame.f_locals)
    return namespace


def caller_history(frame: types.FrameType) -> list[tuple[int, str]]:
    """The cells run so far (IPython's input history, numbered as `In [n]`), or the caller's own file."""
    shell = _ipython()
    if shell is not None and getattr(shell, "history_manager", None) is not None:
        return [(n, cell) for n, cell in enumerate(shell.history_manager.input_hist_raw) if n and cell]
    lines = linecache.getlines(frame.f_code.co_filename)
    return [(1, "".join(lines))] if lines else []


def _ipython():
    module = sys.modules.get("IPython")
    getter = getattr(module, "get_ipython", None)
    return getter() if getter is not None else None


def _is_literal(value: object, depth: int = 0) -> bool:
    if depth > 20:
        return False
    if type(value) in _LITERAL_TYPES:
        return not (isinstance(value, float) and not math.isfinite(value))
    if type(value) in (list, tuple, set, frozenset):
        return all(_is_literal(v, depth + 1) for v in value)  # type: ignore[attr-defined]
    if type(value) is dict:
        return all(_is_literal(k, depth + 1) and _is_literal(v, depth + 1) for k, v in value.items())  # type: ignore[attr-defined]
    return False


def _describe(value: object) -> str:
    """'of type numpy.ndarray': what the student's value is, in Python's words."""
    kind = type(value)
    module = (kind.__module__ or "").split(".")[0]
    return f"of type {module}.{kind.__name__}" if module not in ("builtins", "__main__", "") else f"of type {kind.__name__}"


def _source_of(name: str, obj: object, history: extract.Scan) -> str:
    """The source of a function or class defined in the notebook (decorators included)."""
    target = inspect.unwrap(obj) if callable(obj) else obj
    code = getattr(target, "__code__", None)
    if code is not None and code.co_freevars:
        raise extract.Unwritable(name, "is defined inside another function: define it at the top level of a cell")
    try:
        source = textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        source = ""
    if not source and inspect.isclass(obj):  # classes of a kernel's __main__ have no file for inspect to read
        chunk = history.chunks.get(obj.__name__)
        source = chunk.source if chunk is not None and chunk.kind == extract.DEFINITION else ""
    if not source:
        raise extract.Unwritable(name, _no_source(code))
    defined = getattr(target, "__name__", name)
    if defined == "<lambda>":
        return _lambda_source(name, source)
    return source if defined == name else f"{source.rstrip()}\n\n{name} = {defined}\n"


def _no_source(code: types.CodeType | None) -> str:
    """Why a function has no source: outside a notebook, "run the cell again" would not help."""
    where = getattr(code, "co_filename", "")
    if _ipython() is None and where in ("<string>", "<stdin>"):
        how = "a `python -c` string or exec()" if where == "<string>" else "the interactive prompt (or a script piped to python)"
        return (f"was defined in {how}, where Python keeps no source code the grader could read: define it in a .py "
                "file (or grade that file with `grade exercise N --submission FILE`), or in a notebook")
    return "has no source code the grader can find: run the cell that defines it again"


def _lambda_source(name: str, source: str) -> str:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree is not None and len(tree.body) == 1 and isinstance(tree.body[0], ast.Assign) \
            and isinstance(tree.body[0].value, ast.Lambda):
        lam = ast.get_source_segment(source, tree.body[0].value)
        return f"{name} = {lam}\n"
    raise extract.Unwritable(name, "is a lambda that is not alone on its line: write it with `def`")


def _import_binds(chunk: extract.Chunk, obj: object) -> bool:
    """Whether the import the student wrote gives this very object (so it can be reused as written)."""
    try:
        (node,) = ast.parse(chunk.source).body
    except (SyntaxError, ValueError):
        return False
    if isinstance(node, ast.Import):
        (alias,) = node.names
        module = alias.name if alias.asname else alias.name.split(".")[0]
        return sys.modules.get(module) is obj
    if isinstance(node, ast.ImportFrom) and not node.level and node.module:
        (alias,) = node.names
        parent = sys.modules.get(node.module)
        return getattr(parent, alias.name, None) is obj or sys.modules.get(f"{node.module}.{alias.name}") is obj
    return False


def _derived_import(name: str, obj: object) -> str | None:
    if isinstance(obj, types.ModuleType):
        return f"import {obj.__name__}\n" if obj.__name__ == name else f"import {obj.__name__} as {name}\n"
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or "." in qualname or "<" in qualname:
        return None
    try:
        found = getattr(importlib.import_module(module), qualname, None)
    except Exception:  # noqa: BLE001 (any import error: then it cannot be imported that way)
        return None
    if found is not obj:
        return None
    return f"from {module} import {qualname}" + (f" as {name}" if name != qualname else "") + "\n"


class Resolver:
    """`lookup` for `assemble.build`: a global name of the kernel -> the source that recreates it."""

    def __init__(self, namespace: Mapping[str, object], history: extract.Scan, given: Mapping[str, object]):
        self.namespace, self.history, self.given = namespace, history, given
        self.main = namespace.get("__name__", "__main__")

    def _user_defined(self, obj: object) -> bool:
        target = inspect.unwrap(obj) if callable(obj) else obj
        return (inspect.isfunction(target) or inspect.isclass(target)) and getattr(target, "__module__", None) == self.main

    def __call__(self, name: str) -> extract.Chunk | None:
        if name in self.given:
            obj = self.given[name]
        elif name in self.namespace:
            obj = self.namespace[name]
        else:
            return None  # a builtin, or a name never defined: it fails when it runs, as in a .py file
        if getattr(builtins, name, object()) is obj:
            return None
        written = self.history.chunks.get(name)
        if written is not None and written.kind in (extract.IMPORT, extract.FUTURE) and _import_binds(written, obj):
            return written
        if self._user_defined(obj):
            source = _source_of(name, obj, self.history)
            cell = line = 0
            if written is not None and written.source.strip() == source.strip():  # the cell it came from, for messages
                cell, line = written.cell, written.line
            return extract.Chunk(name, extract.DEFINITION, source, cell, line)
        if _is_literal(obj):
            text = repr(obj)
            if len(text) <= _MAX_LITERAL:
                return extract.Chunk(name, extract.CONSTANT, f"{name} = {text}\n")
            raise extract.Unwritable(name, f"is a constant too large to copy ({len(text)} characters)")
        derived = _derived_import(name, obj)
        if derived is not None:
            return extract.Chunk(name, extract.IMPORT, derived)
        if written is not None and (written.kind == extract.ASSIGNED or written.kind == extract.DEFINITION
                                    and not written.source.lstrip().startswith(("def", "class", "@", "async"))):
            return written  # as the student wrote it: `relu = tf.nn.relu`, `mse = tf.keras.losses.MeanSquaredError()`
        raise extract.Unwritable(name, _describe(obj), value=True)


def student_source(functions: list[str], namespace: Mapping[str, object], history_cells: list[tuple[int, str]],
                   given: Mapping[str, object], stub, header: str) -> assemble.Built:
    """The student file for the kernel's current definitions (raises `assemble.UnwritableAll`)."""
    history = extract.scan(history_cells)
    resolver = Resolver(namespace, history, given)
    return assemble.build(functions, resolver, stub, header)
