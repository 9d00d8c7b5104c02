"""The `grade batch` and `grade gradescope-bundle` commands.

`grader/cli/app.py` adds them to its Typer app with `register(app)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grader import catalog
from grader.render import formats


def parse_exercises(value: str) -> list[int] | None:
    """`all` -> None (every exercise); `3` or `1,3` -> [3] / [1, 3]; anything else is a usage error."""
    if value.strip().lower() == "all":
        return None
    try:
        chosen = [catalog.exercise(part.strip()).id for part in value.split(",") if part.strip()]
    except catalog.CatalogError as e:
        raise typer.BadParameter(str(e), param_hint="--exercise") from None
    if not chosen:
        raise typer.BadParameter("give an exercise number, a comma-separated list, or 'all'", param_hint="--exercise")
    return chosen


def batch(
    directory: Annotated[Path, typer.Argument(help="a directory holding one submission per entry (folder, .zip or .ipynb)")],
    out: Annotated[Path, typer.Option("--out", help="the output file (a directory for --format gradescope)")],
    exercise: Annotated[str, typer.Option("--exercise", help="exercise number, comma-separated numbers, or 'all'")] = "all",
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="submissions graded in parallel [default: number of cores]")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv | gradescope | junit")] = "jsonl",
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="seed for the hidden inputs [default: the course's]")] = None,
    state: Annotated[Path | None, typer.Option("--state", help="where finished reports are kept for resuming [default: .<out>.grader-state beside --out]")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", min=1, help="stop grading one submission after this many seconds [default: from the exercises' limits]")] = None,
    visibility: Annotated[str, typer.Option("--visibility", help="gradescope: visible | hidden | after_due_date | after_published")] = "visible",
    feedback: Annotated[str, typer.Option("--feedback", help="gradescope: full | hint | none (how much of a failed check's message students read)")] = "full",
) -> None:
    """Grade every submission in DIRECTORY in parallel, resumably; exit 0 when the batch completed."""
    from grader.batch import run_batch

    if fmt not in formats.FORMATS:
        raise typer.BadParameter(f"'{fmt}'; choose one of: {', '.join(formats.FORMATS)}", param_hint="--format")
    _check_gradescope_words(visibility, feedback)
    code = run_batch(
        directory, out, fmt, parse_exercises(exercise), jobs, seed, state,
        visibility, feedback, timeout_s=timeout,  # type: ignore[arg-type]
    )  # fmt: skip
    raise typer.Exit(code)


def gradescope_bundle(
    out: Annotated[Path, typer.Option("--out", help="the autograder zip to write")] = Path("autograder.zip"),
    exercise: Annotated[str, typer.Option("--exercise", help="the exercises this Gradescope assignment grades")] = "all",
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="seed for the hidden inputs [default: the course's]")] = None,
    visibility: Annotated[str, typer.Option("--visibility", help="visible | hidden | after_due_date | after_published")] = "visible",
    feedback: Annotated[str, typer.Option("--feedback", help="full | hint | none")] = "full",
) -> None:
    """Write a Gradescope autograder (setup.sh, run_autograder and the grader) as a zip to upload."""
    from grader.api import GradingError, resolve_seeds
    from grader.gradescope import BundleError, build_bundle

    _check_gradescope_words(visibility, feedback)
    try:
        resolve_seeds(seed)  # the bundle carries the secret seed: a bad one would fail every student's run
    except GradingError as e:
        typer.echo(f"grade gradescope-bundle: {e}", err=True)
        raise typer.Exit(2) from None
    try:
        path = build_bundle(out, parse_exercises(exercise), seed, visibility, feedback)  # type: ignore[arg-type]
    except BundleError as e:
        typer.echo(f"grade gradescope-bundle: {e}", err=True)
        raise typer.Exit(1) from None
    except OSError as e:
        typer.echo(f"grade gradescope-bundle: cannot write {out}: {e.strerror}", err=True)
        raise typer.Exit(3) from None
    typer.echo(f"wrote {path}: upload it as the assignment's autograder (Ubuntu 22.04 or later base image)", err=True)


_VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")
_FEEDBACK = ("full", "hint", "none")


def _check_gradescope_words(visibility: str, feedback: str) -> None:
    if visibility not in _VISIBILITY:
        raise typer.BadParameter(f"'{visibility}'; choose one of: {', '.join(_VISIBILITY)}", param_hint="--visibility")
    if feedback not in _FEEDBACK:
        raise typer.BadParameter(f"'{feedback}'; choose one of: {', '.join(_FEEDBACK)}", param_hint="--feedback")


def register(app: typer.Typer) -> None:
    app.command("batch")(batch)
    app.command("gradescope-bundle")(gradescope_bundle)
