"""Reading a Jupyter notebook (`.ipynb`, nbformat 4) as plain JSON: its code cells, numbered.

No nbformat needed at grading time: a notebook is a JSON document with a `cells` list whose
entries have a `cell_type` and a `source` (a string, or a list of lines). Anything else is a
`NotebookError` whose message tells the student what to do.
"""

from __future__ import annotations

import json
from pathlib import Path

SETUP_TAG = "grader-setup"  # see grader.notebook.build
MAX_BYTES = 50 * 1024 * 1024  # notebooks carry their outputs (plots): larger than a .py, still bounded


class NotebookError(Exception):
    """A notebook that cannot be read; the message says why and what to do."""


_RESAVE = "Open it in Jupyter or Colab and save it again."


def code_cells(data: bytes, name: str) -> list[tuple[int, str]]:
    """`(number, source)` of every code cell; cells are numbered from 1 in notebook order, markdown included."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError(f"{name} is not a notebook: it is not UTF-8 text. {_RESAVE}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise NotebookError(f"{name} is not a valid notebook: it is not valid JSON (line {e.lineno}, column {e.colno}: "
                            f"{e.msg}). {_RESAVE}") from None
    except RecursionError:
        raise NotebookError(f"{name} is not a valid notebook: its JSON is nested too deeply. {_RESAVE}") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        version = document.get("nbformat") if isinstance(document, dict) else None
        if isinstance(version, int) and version < 4:
            raise NotebookError(f"{name} is an old notebook (nbformat {version}). {_RESAVE}")
        raise NotebookError(f"{name} is not a Jupyter notebook: its JSON has no list of cells. {_RESAVE}")
    cells = []
    for number, cell in enumerate(document["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code" or _is_setup(cell):
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{name}: cell {number} has no readable source. {_RESAVE}")
        cells.append((number, source))
    return cells


def _is_setup(cell: dict) -> bool:
    """The exercise notebooks' first cell (it installs the grader in Colab): never graded, never reported."""
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    return isinstance(tags, list) and SETUP_TAG in tags


def read(path: Path) -> list[tuple[int, str]]:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise NotebookError(f"{path.name} is {size} bytes; a notebook may be at most {MAX_BYTES}. "
                                "Clear its outputs (Edit > Clear all outputs) and save it again.")
        data = path.read_bytes()
    except OSError as e:
        raise NotebookError(f"{path.name} cannot be read: {e.strerror}") from None
    return code_cells(data, path.name)


def looks_like_notebook(data: bytes) -> bool:
    """A JSON object (what every notebook is), as opposed to a zip: the first byte that is not blank is `{`."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"
