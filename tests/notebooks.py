"""A student file as a notebook: one code cell per top-level statement, as a student splits their work."""

from __future__ import annotations

import ast
import json


def cells_of(source: str) -> list[str]:
    """The file's top-level statements, each with the comments and blank lines above it, one cell each."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [source]  # a file that does not parse is one cell that does not parse
    lines = source.splitlines()
    starts = [min([n.lineno, *(d.lineno for d in getattr(n, "decorator_list", []))]) for n in tree.body]
    bounds = [1, *starts[1:], len(lines) + 1] if starts else [1, len(lines) + 1]
    cells = ["\n".join(lines[a - 1 : b - 1]).strip("\n") for a, b in zip(bounds, bounds[1:])]
    return [c for c in cells if c.strip()]


def notebook(cells: list[str]) -> str:
    document = {
        "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "outputs": [],
                   "source": c.splitlines(keepends=True)} for i, c in enumerate(cells, 1)],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"
