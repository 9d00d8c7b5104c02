"""Finding a student's files in a submission (exercise-path or flat layout)."""

from __future__ import annotations

from pathlib import Path

from grader.catalog import Exercise


class SubmissionError(Exception):
    """A submission that cannot be read at all; the message says why."""


def check_directory(path: Path) -> Path:
    if not path.exists():
        raise SubmissionError(f"{path}: no such file or directory")
    if not path.is_dir():
        raise SubmissionError(f"{path}: not a directory (a submission is a directory or a .zip of one)")
    return path


def locate(directory: Path, ex: Exercise) -> Path | None:
    """The student's file for `ex`: `<slug>/<file>` first, then `<file>` at the top.

    A symlink is never followed: it could point at the reference solution.
    """
    root = directory.resolve()
    for candidate in (directory / ex.slug / ex.file, directory / ex.file):
        if candidate.is_symlink() or (candidate.parent != directory and candidate.parent.is_symlink()):
            continue
        if candidate.is_file() and candidate.resolve().is_relative_to(root):
            return candidate
    return None


def looked_for(ex: Exercise) -> str:
    return f"{ex.slug}/{ex.file} or {ex.file}"
