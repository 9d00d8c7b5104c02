"""Where a student's work is: a workspace made by `grade init`, or a clone of the course.

`grade init DIR` copies each exercise's files (stub, README.md, notebook, and any file the
stub uses, such as ex5's sine model) into DIR/<slug>/ and writes the marker MARKER at DIR's
root. Inside DIR, or any folder below it, the commands grade DIR and keep their local state
in DIR/.grader/. In a clone (or any folder holding a course's `exercises/`) they grade that
`exercises/` and keep their state beside it, as before.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from grader import __version__, catalog

MARKER = "tinyml-workspace.toml"
DEFAULT_DIR = "tinyml-exercises"
_SKIPPED = ("exercise.toml",)  # the grader's metadata, not the student's


class WorkspaceError(Exception):
    """The workspace cannot be written as asked; the message names what is in the way."""


@dataclass(frozen=True)
class Work:
    root: Path  # where the local state lives (root/.grader/)
    submission: Path  # what `grade exercise` grades by default


def find(start: Path | None = None) -> Work | None:
    """The work the current directory belongs to: the nearest workspace or course checkout above it, else the clone the grader runs from."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return Work(root=folder, submission=folder)
        course = catalog.course_in(folder)
        if course is not None:
            return Work(root=folder, submission=course)
    clone = catalog.source().clone
    return Work(root=clone, submission=catalog.exercises_dir()) if clone is not None else None


def files_to_copy(ex: catalog.Exercise) -> list[Path]:
    """The exercise's files a student works with, relative to its folder."""
    return sorted(p.relative_to(ex.directory) for p in ex.directory.rglob("*")
                  if p.is_file() and p.name not in _SKIPPED
                  and not any(part.startswith((".", "__pycache__")) for part in p.relative_to(ex.directory).parts))  # fmt: skip


def init(target: Path) -> list[Path]:
    """Write a workspace at `target`; returns the files written. Never overwrites: WorkspaceError naming what exists."""
    from grader.stubs import edited_stubs

    exercises = catalog.exercises()
    edited = edited_stubs(exercises)
    if edited:
        raise WorkspaceError(f"{', '.join(edited)} is not the stub (edited?): a workspace must start from the stubs")
    if target.exists() and not target.is_dir():
        raise WorkspaceError(f"{target} exists and is not a folder")
    plan = [(ex.directory / rel, target / ex.slug / rel) for ex in exercises for rel in files_to_copy(ex)]
    marker = target / MARKER
    existing = [dst for _, dst in plan if dst.exists() or dst.is_symlink()] + ([marker] if marker.exists() else [])
    if existing:
        shown = ", ".join(str(p) for p in existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3 else "")
        raise WorkspaceError(f"{shown} already exist{'s' if len(existing) == 1 else ''}; grade init never overwrites "
                             "a file: choose another folder, or move them away first")
    written = []
    for src, dst in plan:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        written.append(dst)
    marker.write_text(
        "# This folder is a tinyml-grader workspace, made by `grade init`.\n"
        "# `grade exercise N`, `grade hint N`, `grade list` and `grade watch N` run here, or in any\n"
        "# folder below, grade the exercise folders here and keep their progress in .grader/.\n"
        f'course = "{catalog.course().name}"\n'
        f'grader_version = "{__version__}"\n',
        encoding="utf-8",
    )
    return [*written, marker]


def state_dir() -> Path:
    """Where local state goes: the work's .grader/, else the user's own state folder (never the current directory)."""
    work = find()
    if work is not None:
        return work.root / ".grader"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tinyml-grader"
