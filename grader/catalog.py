"""The exercise catalog: each `exercises/<slug>/exercise.toml`, validated.

Metadata is data (title, student file, parts and points, hints, limits,
tolerances). A typo in a key fails at load with the file and the key named.

Where the course comes from is decided in one place, `source()`: the clone's
`exercises/` when the grader runs from a clone of the repository, else the copy
the wheel carries as package data (`grader/_course/`, built from `exercises/`).
Nothing else in the grader knows the repository's layout.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

_PACKAGE = Path(__file__).resolve().parent
PACKAGED_COURSE = _PACKAGE / "_course"  # the wheel's copy of exercises/ (see setup.py)


class CatalogError(Exception):
    """Exercise metadata that cannot be loaded; the message names file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Strict):
    call_seconds: float = Field(20.0, gt=0, description="wall-clock limit for one call into student code")
    exercise_seconds: float = Field(180.0, gt=0, description="wall-clock limit for the whole exercise")
    memory_mib: int = Field(3072, gt=0, description="resident memory the student's process may use")
    output_kib: int = Field(64, gt=0, description="captured stdout/stderr kept per exercise")
    file_mib: int = Field(64, gt=0, description="largest file the student's code may write")
    processes: int = Field(512, gt=0, description="processes and threads the student's code may run")
    open_files: int = Field(256, gt=0, description="files the student's code may hold open at once")


class Part(_Strict):
    """One graded check: `check_<id>` in the exercise's hidden check module."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    points: float = Field(gt=0)
    hint: str = Field(description="the idea to revisit when this check fails")


class EquivalentMutant(_Strict):
    """A mutant of a correct solution that is still correct: same outputs on every input."""

    id: str = Field(description="the mutant's id, as `grade validate --mutants` prints it; `*` matches any text")
    reason: str = Field(min_length=1, description="one line: why it computes the same thing")


class Exercise(_Strict):
    schema_version: int = Field(1, ge=1, le=1)
    id: int = Field(ge=1)
    slug: str
    title: str
    file: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.py$")
    functions: list[str] = Field(min_length=1)
    hints: list[str] = Field(min_length=1)
    parts: list[Part] = Field(min_length=1)
    limits: Limits = Limits()
    tolerances: dict[str, float] = {}
    equivalent_mutants: list[EquivalentMutant] = []

    @model_validator(mode="after")
    def _unique_parts(self) -> "Exercise":
        ids = [p.id for p in self.parts]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"part ids must be unique; repeated: {', '.join(dupes)}")
        return self

    @property
    def max_score(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def directory(self) -> Path:
        return exercises_dir() / self.slug

    @property
    def solution_path(self) -> Path:
        solutions = solutions_dir()
        if solutions is None:
            raise CatalogError(NO_SOLUTIONS)
        return solutions / self.slug / self.file

    @property
    def stub_path(self) -> Path:
        return self.directory / self.file

    def part(self, part_id: str) -> Part:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(part_id)


class Course(_Strict):
    name: str
    seed: int = Field(description="the course's default seed for hidden inputs")
    secret_seed_env: str = Field("GRADER_SECRET_SEED", description="environment variable an instructor sets to hide inputs")


@dataclass(frozen=True)
class Source:
    """Where the course is read from."""

    exercises: Path  # course.toml and a folder per exercise
    clone: Path | None  # the repository's root when running from a clone, else None


NO_SOLUTIONS = ("the reference solutions are not installed with the grader (the wheel never carries them): "
                "run from a clone of the course repository, or pass --solutions DIR")
_solutions_override: list[Path] = []


def course_in(folder: Path) -> Path | None:
    """The course folder of a clone of the course rooted at `folder` (its `exercises/`), if it is one."""
    course = folder / "exercises"
    return course if (course / "course.toml").is_file() else None


@cache
def source() -> Source:
    """The one place that decides where the course comes from: a clone, or the installed package."""
    checkout = _PACKAGE.parent
    course = course_in(checkout)
    if course is not None and (checkout / "pyproject.toml").is_file():
        return Source(exercises=course, clone=checkout)
    return Source(exercises=PACKAGED_COURSE, clone=None)


def exercises_dir() -> Path:
    return source().exercises


def solutions_dir() -> Path | None:
    """The reference solutions (`--solutions DIR`, else a clone's `solutions/`); None when there are none."""
    if _solutions_override:
        return _solutions_override[-1]
    clone = source().clone
    return clone / "solutions" if clone is not None and (clone / "solutions").is_dir() else None


def use_solutions(path: Path) -> None:
    """Take the reference solutions from `path` (an instructor's `--solutions DIR`)."""
    _solutions_override.append(path.resolve())


def _load_toml(path: Path, model: type[BaseModel]) -> BaseModel:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CatalogError(f"{path}: cannot read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise CatalogError(f"{path}: not valid TOML: {e}") from None
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"key '{'.'.join(str(x) for x in err['loc']) or '(top)'}': {err['msg']}" for err in e.errors()
        )
        raise CatalogError(f"{path}: {problems}") from None


@cache
def course() -> Course:
    return _load_toml(exercises_dir() / "course.toml", Course)  # type: ignore[return-value]


@cache
def exercises() -> tuple[Exercise, ...]:
    found = []
    for toml in sorted(exercises_dir().glob("*/exercise.toml")):
        ex = _load_toml(toml, Exercise)
        if ex.slug != toml.parent.name:  # type: ignore[attr-defined]
            raise CatalogError(f"{toml}: key 'slug': '{ex.slug}' does not match its folder '{toml.parent.name}'")  # type: ignore[attr-defined]
        found.append(ex)
    found.sort(key=lambda e: e.id)  # type: ignore[attr-defined]
    ids = [e.id for e in found]  # type: ignore[attr-defined]
    if len(set(ids)) != len(ids):
        raise CatalogError(f"{exercises_dir()}: two exercises share an id: {ids}")
    return tuple(found)  # type: ignore[arg-type]


def secret_seed() -> int | None:
    """The instructor's secret seed from the environment, if set; CatalogError if it is not a non-negative integer."""
    env = course().secret_seed_env
    value = os.environ.get(env)
    if value is None:
        return None
    if not value.strip().isdigit():
        raise CatalogError(f"{env} must be a non-negative integer, got {value!r}: "
                           "set it to a number only you know, or unset it")
    return int(value)


def select(refs: Sequence[int | str] | None) -> list[Exercise]:
    """The exercises asked for by number or slug, in that order; every exercise when none are named."""
    return list(exercises()) if not refs else [exercise(ref) for ref in refs]


def exercise(ref: int | str) -> Exercise:
    """Look an exercise up by number or slug."""
    for ex in exercises():
        if str(ex.id) == str(ref) or ex.slug == ref:
            return ex
    known = ", ".join(f"{e.id} ({e.slug})" for e in exercises())
    raise CatalogError(f"unknown exercise '{ref}'; the exercises are: {known}")
