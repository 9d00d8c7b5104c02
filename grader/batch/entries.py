"""The submissions of a batch: one per entry of a directory."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class BatchError(Exception):
    """A batch that cannot start (unreadable directory, clashing ids); a usage error."""


@dataclass(frozen=True)
class Entry:
    id: str
    path: Path


def discover(directory: Path, exclude: Sequence[Path] = ()) -> list[Entry]:
    """The submissions in `directory`, sorted by id.

    Folders, `.zip` files and notebooks (`.ipynb`) are submissions; hidden entries and the paths in
    `exclude` (the output and state of this batch) are not. Any other file is
    reported on stderr and left out.
    """
    if not directory.is_dir():
        raise BatchError(f"{directory} is not a directory")
    skip = {p.resolve() for p in exclude}
    entries: dict[str, Entry] = {}
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.name == "__MACOSX" or path.resolve() in skip:
            continue
        if path.is_dir():
            sid = path.name
        elif path.is_file() and path.suffix.lower() in (".zip", ".ipynb"):
            sid = path.stem
        else:
            print(f"grade batch: ignoring {path.name}: not a folder, a .zip or a notebook", file=sys.stderr)
            continue
        if sid in entries:
            raise BatchError(f"two entries give the submission id '{sid}': {entries[sid].path.name} and {path.name}")
        entries[sid] = Entry(sid, path)
    return list(entries.values())
