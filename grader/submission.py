"""Finding the student's files in a submission.

A submission is a directory, or a `.zip` of one, holding the student files at
their exercise paths (`ex3_two_layer/two_layer.py`) or flat (`two_layer.py`).
"""

from __future__ import annotations

from pathlib import Path

from grader import archive


class SubmissionError(Exception):
    """A submission that cannot be opened (bad or unsafe archive, unreadable path)."""


def _visible(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]


def _root(directory: Path) -> Path:
    """Look through the wrapping folders students add when zipping.

    `alice.zip` often holds `alice/ex1_loss/loss.py` or `exercises/loss.py`:
    while a folder holds exactly one visible entry and that is a folder whose
    name is not an exercise slug, grade inside it.
    """
    from grader.catalog import exercises

    slugs = {ex.slug for ex in exercises()}
    while True:
        entries = _visible(directory)
        if len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink() or entries[0].name in slugs:
            return directory
        directory = entries[0]


def prepare(path: Path, scratch: Path, limits: archive.ArchiveLimits = archive.ArchiveLimits()) -> Path:
    """The directory to grade for `path`: itself, or a `.zip` unpacked safely into `scratch`."""
    if path.is_dir():
        return _root(path)
    if path.suffix.lower() == ".zip" and path.is_file():
        try:
            return _root(archive.extract(path, scratch / "submission", limits))
        except archive.ArchiveError as e:
            raise SubmissionError(str(e)) from None
    raise SubmissionError(f"{path.name} is neither a directory nor a .zip archive")
