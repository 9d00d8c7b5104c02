"""The order of a student file built from notebook cells: dependencies first, else the notebook's.

Standard library only (it runs in the student's kernel); works on `extract.Chunk`s.
"""

from __future__ import annotations


def notebook_order(order: list) -> list:
    """`order` (dependencies first) rearranged into notebook order wherever dependencies allow.

    Assignments run when the file is imported, so two of them run in the order the notebook
    ran them; a dependency still comes first (a cycle, functions calling each other, keeps
    the order it had).
    """
    names = {c.name for c in order}
    needs = {c.name: {u for u in c.uses() if u in names and u != c.name} for c in order}
    done: set[str] = set()
    left = list(order)
    out = []
    while left:
        ready = [c for c in left if needs[c.name] <= done] or left[:1]
        pick = min(ready, key=lambda c: (c.cell, c.line) if c.cell else (0, 0))
        left.remove(pick)
        done.add(pick.name)
        out.append(pick)
    return out
