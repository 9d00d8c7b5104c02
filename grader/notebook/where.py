"""Where a line of a student file built from a notebook was written: the cell and its line, not the built file's.

A message such as "(two_layer.py, line 19: `...`)" names a file the student never wrote;
`relabel` turns it into "(cell 4, line 2: `...`)" using the origins `assemble.build` kept.
Standard library only, as the rest of `grader.notebook` that runs in the student's kernel.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from grader.notebook.assemble import Built


def cell_words(cell: int) -> str:
    return f"cell {cell}"


def relabel(text: str, file_name: str, built: Built, label: Callable[[int], str] = cell_words) -> str:
    """`text` with every "(<file_name>, line N" (or "(line N") that came from a cell named as that cell's line."""
    if not text or not built.origins:
        return text

    def named(m: re.Match) -> str:
        found = built.cell_line(int(m.group(1)))
        return m.group(0) if found is None else f"({label(found[0])}, line {found[1]}"

    text = re.sub(rf"\((?:{re.escape(file_name)}, )?line (\d+)", named, text)
    for before, after in (("Your", "Your notebook's code"), ("your", "your notebook's code"),
                          ("importing", "importing your notebook's code")):
        text = text.replace(f"{before} {file_name}", after)
    return text


def relabel_exercise(result: dict, file_name: str, built: Built, label: Callable[[int], str] = cell_words) -> None:
    """Every message of one exercise's result (the report's JSON form), in place."""
    result["message"] = relabel(result.get("message") or "", file_name, built, label)
    for check in result.get("checks", []):
        check["message"] = relabel(check.get("message") or "", file_name, built, label)
