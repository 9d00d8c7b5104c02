"""The student file from notebook chunks: an exercise's functions and what they use, nothing that runs.

`build` writes the exercise's functions and, transitively, the imports, helper functions and
classes, literal constants and top-level assignments they use (the chunks `extract.scan`
made, or the kernel's definitions `live` finds), dependencies first, else in notebook order.
An assignment (`mse = tf.keras.losses.MeanSquaredError()`) is graded only when the functions
use it and its value reads nothing but such names (and harmless builtins).

Standard library only: `check()` uses this inside the student's kernel before any grading.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from grader.notebook.extract import (ASSIGNED, CONSTANT, DEFINITION, FUTURE, IMPORT, UNSAFE_BUILTINS, Chunk, Scan,
                                     Unwritable)
from grader.notebook.order import notebook_order

@dataclass
class Built:
    source: str
    found: list[str]  # the exercise's functions that were defined
    stubbed: list[str]  # those that were not: "not attempted"
    graded: set[tuple[str, int]] = field(default_factory=set)  # (name, cell) of the assignments it holds
    origins: list[tuple[int, int, int, int]] = field(default_factory=list)  # file lines a-b: cell c from its line l

    def cell_line(self, line: int) -> tuple[int, int] | None:
        """Where line `line` of the file was written: (cell, line in that cell), or None (not from a cell)."""
        for first, last, cell, start in self.origins:
            if first <= line <= last:
                return cell, start + line - first
        return None


Lookup = Callable[[str], "Chunk | None"]


def build(functions: Sequence[str], lookup: Lookup, stub: Callable[[str], Chunk], header: str = "",
          always: Sequence[Chunk] = ()) -> Built:
    """The student file for `functions`: each one (or its stub when `lookup` finds nothing) and what it uses.

    `lookup(name)` gives the chunk that defines a global name, or None (a builtin, or a
    name the code never defined: it fails when run, as in a .py); it may raise
    `Unwritable`. Every `Unwritable` is collected and raised together as `UnwritableAll`.
    """
    order: list[Chunk] = []
    seen: set[str] = set()
    problems: list[Unwritable] = []
    found, stubbed = [], []

    looked: dict[str, Chunk | None | Unwritable] = {}

    def find(name: str) -> Chunk | None | Unwritable:
        if name not in looked:
            try:
                looked[name] = lookup(name)
            except Unwritable as e:
                looked[name] = e
        return looked[name]

    usable: dict[str, bool] = {}

    def runs(name: str) -> bool:
        """Whether the file can bind `name`: an assignment only when its value reads nothing but such names."""
        if name not in usable:
            usable[name] = True  # a name being looked at (recursion) counts as bound
            chunk = find(name)
            if chunk is None:
                usable[name] = hasattr(builtins, name) and name not in UNSAFE_BUILTINS
            elif isinstance(chunk, Unwritable):
                usable[name] = False
            elif chunk.kind == ASSIGNED:
                uses = chunk.uses()
                usable[name] = name not in uses and all(runs(u) for u in sorted(uses))
        return usable[name]

    def visit(name: str, chunk: Chunk | None) -> None:
        if name in seen:
            return
        seen.add(name)
        if chunk is None:
            found_chunk = find(name)
            if isinstance(found_chunk, Unwritable):
                problems.append(found_chunk)
                return
            if found_chunk is None or (found_chunk.kind == ASSIGNED and not runs(name)):
                return  # a builtin, a name never defined, or top-level code that never runs: fails when used, as in a .py
            chunk = found_chunk
        for used in sorted(chunk.uses()):
            if used != name:
                visit(used, None)
        order.append(chunk)

    for name in functions:
        try:
            chunk = lookup(name)
        except Unwritable as e:
            problems.append(e)
            continue
        (found if chunk is not None else stubbed).append(name)
        visit(name, chunk if chunk is not None else stub(name))
    if problems:
        raise UnwritableAll(problems)

    def section(kinds: tuple[str, ...]) -> list[Chunk]:
        return list({c.source: c for c in [*always, *order][::-1] if c.kind in kinds}.values())[::-1]

    parts: list[list[Chunk | str]] = [[header]] if header else []
    for kinds in ((FUTURE,), (IMPORT,), (CONSTANT,)):
        block = section(kinds)  # each source once, where it first came
        if block:
            parts.append(block)
    parts += [[c] for c in notebook_order(order) if c.kind in (DEFINITION, ASSIGNED)]
    texts, origins, line = [], [], 1
    for part in parts:
        text = "".join(c if isinstance(c, str) else c.source for c in part).rstrip("\n")
        at = line
        for c in part:
            source = c if isinstance(c, str) else c.source
            if not isinstance(c, str) and c.cell:
                origins.append((at, at + source.count("\n") - 1, c.cell, c.line))
            at += source.count("\n")
        texts.append(text)
        line += text.count("\n") + 3  # the part, then two blank lines
    return Built(source="\n\n\n".join(texts) + "\n", found=found, stubbed=stubbed,
                 graded={(c.name, c.cell) for c in order if c.kind == ASSIGNED}, origins=origins)


class UnwritableAll(Exception):
    def __init__(self, problems: list[Unwritable]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def always_kept(found: Scan) -> list[Chunk]:
    """`from __future__` imports change how the file compiles, and `from x import *` binds names nobody can
    see: both are always kept."""
    return [c for c in found.chunks.values() if c.kind == FUTURE or c.name.startswith("*")]


def from_cells(scanned: Scan, functions: Sequence[str], stub: Callable[[str], Chunk], header: str = "") -> Built:
    """The student file from scanned notebook cells."""

    def lookup(name: str) -> Chunk | None:
        return scanned.chunks.get(name) or scanned.broken.get(name)

    return build(functions, lookup, stub, header, always=always_kept(scanned))
