"""From notebook cells to a student file: the definitions an exercise needs, and nothing that runs.

A notebook mixes what the grader should see (imports, `def`, `class`, constants) with what
it must never run (training, plotting, `!pip`, `%magic`, a stray `os._exit`). `scan` sorts
each cell's top-level statements into *chunks* (one per name they bind; a later cell's
definition replaces an earlier one, as in a "Restart and run all") and records what it left
out, and `free_names` finds the global names a chunk reads (by `symtable`, exactly as Python
scopes them). `grader.notebook.assemble` then writes the student file from the chunks; any
top-level code it does not take never runs, and `Scan.describe_left_out` names the cells it
was in.

Standard library only: `check()` uses this inside the student's kernel before any grading.
"""

from __future__ import annotations

import ast
import re
import symtable
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

IMPORT, CONSTANT, DEFINITION, FUTURE, ASSIGNED = "import", "constant", "definition", "future", "assigned"
# Builtins an assignment's value may call: none reads or writes files, runs code or reaches the notebook's state.
UNSAFE_BUILTINS = frozenset({"exec", "eval", "compile", "open", "input", "breakpoint", "exit", "quit", "__import__",
                             "globals", "locals", "vars", "setattr", "delattr", "help", "memoryview"})
GRADER_CALLS = ("check", "hint")
MAX_CELL_CHARS = 1_000_000  # parsing is not free (about 2.5 GB for 1M one-line statements): a cell is code, not data
REASONS = {"code": "top-level code", "magic": "shell and magic lines", "syntax": "does not parse",
           "size": f"over {MAX_CELL_CHARS:,} characters: too large to read"}


@dataclass(frozen=True)
class Chunk:
    """Source that binds one global name: an import, a literal constant, a def or a class."""

    name: str
    kind: str
    source: str
    cell: int = 0  # 1-based cell number; 0 when it did not come from a cell
    line: int = 0  # its first line in the cell

    def uses(self) -> set[str]:
        """The global names this chunk reads (when defined, or when its functions run)."""
        if self.kind == ASSIGNED:  # `x = x + 1` reads an earlier x, which a later binding replaced here
            return free_names(self.source, assigned_too=True)
        return free_names(self.source) if self.kind == DEFINITION else set()


@dataclass(frozen=True)
class LeftOut:
    cell: int
    reason: str  # "code" (top-level statements), "magic" (IPython syntax), "syntax" (does not parse), "size"
    partly: bool  # the cell's definitions were kept, only some statements were left out
    held: tuple[str, ...] = ()  # its assignments, graded only when the functions use them
    code: bool = True  # it holds other top-level code, never run
    magic: bool = False

    def settled(self, graded: set[tuple[str, int]]) -> LeftOut | None:
        """What is left out once `graded` (name, cell) assignments are known to be in the student file."""
        if not self.held:
            return self
        kept = [n for n in self.held if (n, self.cell) in graded]
        if self.code or len(kept) < len(self.held):
            return LeftOut(self.cell, "code", self.partly or bool(kept))
        return LeftOut(self.cell, "magic", True) if self.magic else None


@dataclass
class Scan:
    chunks: dict[str, Chunk] = field(default_factory=dict)
    left_out: list[LeftOut] = field(default_factory=list)
    broken: dict[str, Chunk] = field(default_factory=dict)  # names a cell that does not parse seems to define

    def describe_left_out(self, graded: set[tuple[str, int]] = frozenset()) -> str:  # type: ignore[assignment]
        """'cells 3 (top-level code), 5 (in part: shell and magic lines)' for the report; empty when none.

        `graded`: the (name, cell) of the assignments the student file holds (`Built.graded`).
        """
        settled = [x for x in (x.settled(graded) for x in self.left_out) if x is not None]
        parts = [f"{x.cell} ({'in part: ' if x.partly else ''}{REASONS[x.reason]})" for x in settled]
        return f"cell{'s' if len(parts) > 1 else ''} " + ", ".join(parts) if parts else ""


class Unwritable(Exception):
    """A global the code needs that cannot be written as source (a tensor, a trained model).

    `value`: it is a value computed in the notebook (`what` says its type); otherwise `what`
    says what is wrong with a definition, and how to fix it.
    """

    def __init__(self, name: str, what: str, value: bool = False):
        super().__init__(f"{name}: {what}")
        self.name, self.what, self.value = name, what, value


# -- scanning cells ------------------------------------------------------------------------

_MAGIC = re.compile(r"^(\s*)(!|%|\?|[A-Za-z_][\w.]*\s*=\s*[!%])")
_HELP = re.compile(r"^\s*[\w.]+\?\??\s*$")
_LOOKS_DEFINED = re.compile(r"^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.M)


def _strip_magics(source: str) -> tuple[str, bool]:
    """IPython-only lines (`!cmd`, `%magic`, `x = !cmd`, `obj?`) become `pass`, keeping line numbers."""
    lines, found = [], False
    for line in source.splitlines():
        m = _MAGIC.match(line)
        if m or _HELP.match(line):
            found = True
            lines.append(f"{m.group(1) if m else ''}pass")
        else:
            lines.append(line)
    return "\n".join(lines) + "\n", found


_LINE_END = re.compile(r"\r\n|\r|\n")  # the parser's line ends (str.splitlines also splits at \f, \x1c, \u2028...)


def _segment(lines: list[str], node: ast.stmt) -> str:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "\n".join(lines[first - 1 : node.end_lineno]) + "\n"


def _source_of(lines: list[str], node: ast.expr) -> str:
    """`ast.get_source_segment` from the cell's lines: it splits the whole source at every call (quadratic in a cell
    of many assignments); offsets are in UTF-8 bytes."""
    first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[operator]
    if first == last:
        return lines[first].encode()[node.col_offset : node.end_col_offset].decode()
    head, tail = lines[first].encode()[node.col_offset :].decode(), lines[last].encode()[: node.end_col_offset].decode()
    return "\n".join([head, *lines[first + 1 : last], tail])


def is_literal(node: ast.expr) -> bool:
    """A value written only with literals: numbers, strings, bytes, True/False/None, containers, arithmetic of them."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(is_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and is_literal(k) and is_literal(v) for k, v in zip(node.keys, node.values))
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (ast.USub, ast.UAdd)) and is_literal(node.operand)
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Pow, ast.Mod)) and \
            is_literal(node.left) and is_literal(node.right)
    return False


def _dotted(node: ast.expr) -> bool:
    """`tf.nn.relu`: an alias of something imported."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _import_chunks(node: ast.Import | ast.ImportFrom, cell: int) -> list[Chunk]:
    chunks = []
    for alias in node.names:
        if isinstance(node, ast.Import):
            bound = alias.asname or alias.name.split(".")[0]
            text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
        else:
            bound = alias.asname or alias.name
            module = "." * node.level + (node.module or "")
            text = f"from {module} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
        kind = FUTURE if isinstance(node, ast.ImportFrom) and node.module == "__future__" else IMPORT
        chunks.append(Chunk(name=bound if alias.name != "*" else f"*{text}", kind=kind, source=text + "\n", cell=cell,
                            line=node.lineno))
    return chunks


def _statement_chunks(node: ast.stmt, lines: list[str], cell: int) -> list[Chunk] | None:
    """The chunks a top-level statement defines, or None when it is code that must not run."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return _import_chunks(node, cell)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        return [Chunk(node.name, DEFINITION, _segment(lines, node), cell, first)]
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) or isinstance(node, ast.Pass):
        return []  # a docstring or `pass` (what a magic line became): nothing to run, nothing left out
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) \
            and node.value.func.id in GRADER_CALLS:
        return []  # `check(1)`, `hint(1)`: the grader's own cells, never graded
    value = getattr(node, "value", None)
    if isinstance(node, ast.Assign) and value is not None:
        targets = node.targets
        if all(isinstance(t, ast.Name) for t in targets):
            kind = CONSTANT if is_literal(value) else DEFINITION if _dotted(value) else ASSIGNED
            return [Chunk(t.id, kind, f"{t.id} = {_source_of(lines, value)}\n", cell, node.lineno) for t in targets]
        if len(targets) == 1 and isinstance(targets[0], ast.Tuple) and isinstance(value, ast.Tuple) \
                and len(targets[0].elts) == len(value.elts) and all(isinstance(t, ast.Name) for t in targets[0].elts) \
                and all(is_literal(v) for v in value.elts):
            return [Chunk(t.id, CONSTANT, f"{t.id} = {_source_of(lines, v)}\n", cell, node.lineno)
                    for t, v in zip(targets[0].elts, value.elts)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and value is not None and is_literal(value):
        return [Chunk(node.target.id, CONSTANT, _segment(lines, node), cell, node.lineno)]
    return None


def _parse(raw: str) -> tuple[ast.Module, str, bool] | None:
    """The cell as plain Python if it is (a line may start with `%` inside an expression), else without IPython's lines."""
    for source, had_magic in ((raw, False), _strip_magics(raw)):
        try:
            return ast.parse(source), source, had_magic
        except (SyntaxError, ValueError):
            continue
    return None


def scan(cells: Iterable[tuple[int, str]]) -> Scan:
    """Sort the top-level statements of code cells, `(number, source)` in order, into chunks; later definitions win."""
    result = Scan()
    for number, raw in cells:
        if not raw.strip():
            continue
        if raw.lstrip().startswith("%%"):  # a cell magic: the whole cell is IPython's, not Python
            result.left_out.append(LeftOut(number, "magic", partly=False))
            continue
        if len(raw) > MAX_CELL_CHARS:
            result.left_out.append(LeftOut(number, "size", partly=False))
            continue
        parsed = _parse(raw)
        if parsed is None:
            names = _LOOKS_DEFINED.findall(raw)
            for name in names:  # graded as written if the exercise needs it: the student sees their syntax error
                result.broken[name] = Chunk(name, DEFINITION, raw if raw.endswith("\n") else raw + "\n", number, 1)
            result.left_out.append(LeftOut(number, "syntax", partly=False))
            continue
        tree, source, had_magic = parsed
        lines = _LINE_END.split(source)
        kept, skipped, held = 0, False, []
        for node in tree.body:
            chunks = _statement_chunks(node, lines, number)
            if chunks is None:
                skipped = True
                continue
            for chunk in chunks:
                result.chunks.pop(chunk.name, None)  # re-insert: dictionary order is definition order
                result.chunks[chunk.name] = chunk
                result.broken.pop(chunk.name, None)
                if chunk.kind == ASSIGNED:
                    held.append(chunk.name)
                else:
                    kept += 1
        if skipped or had_magic or held:
            result.left_out.append(LeftOut(number, "code" if skipped or held else "magic", partly=kept > 0,
                                           held=tuple(held), code=skipped, magic=had_magic))
    return result


# -- free names ----------------------------------------------------------------------------


def free_names(source: str, assigned_too: bool = False) -> set[str]:
    """The global names a top-level definition reads: in its decorators, defaults, bases and body."""
    try:
        table = symtable.symtable(textwrap.dedent(source), "<cell>", "exec")
    except (SyntaxError, ValueError):
        return set()
    found = {s.get_name() for s in table.get_symbols()
             if s.is_referenced() and (assigned_too or not (s.is_assigned() or s.is_imported()))}
    todo = list(table.get_children())
    while todo:
        child = todo.pop()
        todo += child.get_children()
        found |= {s.get_name() for s in child.get_symbols()
                  if s.is_declared_global() or (s.is_global() and s.is_referenced())}
    return found
