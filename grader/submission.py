"""Finding a student's files in a submission (exercise-path or flat layout).

A submission is a directory, or a `.zip` of one, or a notebook, or one student file
(`loss.py`); `prepare` turns each into the directory to grade, unpacking a zip safely (see
`grader.archive`) and building student files from notebooks (see `grader.notebook.submission`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from grader import archive
from grader.catalog import Exercise, exercises


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


def looked_for(ex: Exercise, directory: Path | None = None) -> str:
    """Where the file was looked for; names a symbolic link found there, since `locate` skips those."""
    where = f"{ex.slug}/{ex.file} or {ex.file}"
    if directory is not None:
        links = [c for c in (f"{ex.slug}/{ex.file}", ex.file, ex.slug) if (directory / c).is_symlink()]
        if links:
            where += (f"; {links[0]} is a symbolic link, which the grader does not follow: "
                      "put the file itself in the submission")
    return where


def _root(directory: Path) -> Path:
    """Look through the wrapping folders students add when zipping.

    `alice.zip` often holds `alice/ex1_loss/loss.py` or `exercises/loss.py`:
    while a folder holds exactly one visible entry and that is a real folder
    whose name is not an exercise slug, grade inside it.
    """
    slugs = {ex.slug for ex in exercises()}
    while True:
        entries = [p for p in directory.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]
        if len(entries) != 1 or entries[0].is_symlink() or not entries[0].is_dir() or entries[0].name in slugs:
            return directory
        directory = entries[0]


def prepare(path: Path, scratch: Path, limits: archive.ArchiveLimits = archive.ArchiveLimits()) -> Path:
    """The directory to grade for `path`: itself, or a `.zip` unpacked safely into `scratch`.

    `scratch` must outlive the grading (a `tempfile.TemporaryDirectory`).
    """
    if path.is_file() and path.suffix.lower() == ".zip":
        try:
            return _notebooks(_root(archive.extract(path, scratch / "submission", limits)), scratch)
        except archive.ArchiveError as e:
            raise SubmissionError(f"{path.name}: {e}") from None
    if path.is_file() and path.suffix.lower() == ".ipynb":
        return _notebooks(path, scratch)
    if path.is_file() and path.suffix.lower() == ".py":
        return _single_file(path, scratch)
    if path.is_file():
        raise SubmissionError(f"{path.name} is neither a directory, a .zip archive, a notebook (.ipynb) nor a "
                              "student file (.py)")
    return _notebooks(_root(check_directory(path)), scratch)


def _single_file(path: Path, scratch: Path) -> Path:
    """One student file, `loss.py`: a submission of that file alone (a copy, so nothing next to it is graded)."""
    names = {ex.file: ex for ex in exercises()}
    if path.name not in names:
        wanted = ", ".join(names)
        raise SubmissionError(f"{path.name}: a single-file submission is one of the student files ({wanted}); "
                              "name it so, or give the folder that holds it")
    folder = scratch / "submission"
    folder.mkdir(parents=True)
    shutil.copyfile(path, folder / path.name)
    return folder


def _notebooks(path: Path, scratch: Path) -> Path:
    """A notebook, or a folder holding notebooks, becomes a folder of student files (`grader.notebook.submission`)."""
    from grader.notebook import submission as notebooks

    if path.is_file() or notebooks.notebooks_in(path):
        return notebooks.prepare(path, scratch)
    return path
