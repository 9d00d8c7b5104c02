"""The `grade` command line. It parses, calls the grading API, and renders.

Imports are lazy: `grade hint`, `grade list` and `grade --help` never load
TensorFlow, NumPy or pytest, and a grading command starts the runners' zygote
(which loads TensorFlow, the longest step) before it imports anything else.
"""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from grader import catalog

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Grade TinyML exercises: hidden checks against real Keras and TFLite references.")

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_GRADER = 0, 1, 2, 3

SubmissionOpt = Annotated[Optional[Path], typer.Option("--submission", "-s", help="Directory, .zip or notebook (.ipynb) with the student files; default: the `grade init` workspace you are in, or exercises/ of the clone.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON report on stdout; messages go to stderr.")]
SeedOpt = Annotated[Optional[int], typer.Option("--seed", min=0, help="Seed for the hidden inputs (default: the course's).")]


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    typer.echo(f"grade: {message}", err=True)
    return typer.Exit(code)


def _catalog_or_exit() -> tuple[catalog.Exercise, ...]:
    from grader import catalog

    try:
        return catalog.exercises()
    except catalog.CatalogError as e:
        raise _fail(f"the exercise catalog is broken: {e}", EXIT_GRADER) from None


def _exercise_or_exit(ref: str) -> catalog.Exercise:
    from grader import catalog

    _catalog_or_exit()
    try:
        return catalog.exercise(ref)
    except catalog.CatalogError as e:
        raise _fail(str(e)) from None


def _default_submission() -> Path:
    from grader import workspace

    work = workspace.find()
    if work is None:
        raise _fail("no exercises here to grade: run `grade init` to make a workspace and work inside it, "
                    "or pass --submission PATH")
    return work.submission


@contextlib.contextmanager
def _stdout_to_stderr():
    """While grading, anything written to stdout (even by C libraries) goes to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@app.command()
def exercise(
    which: Annotated[str, typer.Argument(help="Exercise number (1-5), slug, or 'all'.")],
    submission: SubmissionOpt = None,
    json_out: JsonOpt = False,
    seed: SeedOpt = None,
) -> None:
    """Grade one exercise, or all of them."""
    from grader import api

    directory = submission or _default_submission()
    with api.Grader() as grader:  # first: the runners' TensorFlow loads while the rest is imported
        exercises = [] if which == "all" else [_exercise_or_exit(which).id]
        if which == "all":
            _catalog_or_exit()
        report = _grade_or_exit(grader, directory, exercises, seed)
    raise typer.Exit(_show(report, json_out, record=submission is None))


def _grade_or_exit(grader, path: Path, exercises: list[int], seed: int | None):
    from grader import api

    try:
        with _stdout_to_stderr():
            return grader.grade(path, exercises, seed=seed)
    except api.GradingError as e:
        raise _fail(str(e)) from None
    except Exception as e:  # the grader's own failure: say so, exit 3
        import traceback

        traceback.print_exc()
        raise _fail(f"the grader itself failed: {type(e).__name__}: {e}", EXIT_GRADER) from None


def _show(report, json_out: bool, record: bool) -> int:
    """Print the report, record it as the last local result; return the exit code."""
    from grader import state
    from grader.render import text as render

    typer.echo(render.to_json(report) if json_out else render.to_text(report))
    if record:
        st = state.load()
        when = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for ex in report.exercises:
            state.record_result(st, ex.slug, ex.score, ex.max_score, ex.status, when)
        state.save(st)
    if report.grader_errors:
        return EXIT_GRADER
    passed = all(c.status == "passed" for ex in report.exercises for c in ex.checks)
    return EXIT_PASSED if passed else EXIT_FAILED


@app.command()
def hint(
    which: Annotated[str, typer.Argument(help="Exercise number (1-5) or slug.")],
    level: Annotated[Optional[int], typer.Option("--level", "-l", help="Show hint K (1 = gentlest).")] = None,
) -> None:
    """Show the next hint for an exercise (each call reveals one more)."""
    from grader import state

    ex = _exercise_or_exit(which)
    st = state.load()
    seen = state.hints_seen(st, ex.slug)
    k = level if level is not None else min(seen + 1, len(ex.hints))
    if not 1 <= k <= len(ex.hints):  # checked here, not by Typer: one line, not a usage box
        raise _fail(f"exercise {ex.id} has {len(ex.hints)} hints; --level must be 1 to {len(ex.hints)}")
    typer.echo(f"Exercise {ex.id} · {ex.title} — hint {k} of {len(ex.hints)}\n")
    typer.echo(ex.hints[k - 1])
    if k == len(ex.hints):
        typer.echo("\nThat is the last hint. The README of the exercise has the full task.")
    else:
        typer.echo(f"\nRun `grade hint {ex.id}` again for the next hint.")
    state.record_hint(st, ex.slug, k)
    state.save(st)


@app.command(name="list")
def list_(
) -> None:
    """List the exercises, their points and your last result."""
    from grader import state

    results = state.load().get("results", {})
    typer.echo(f"{'#':<3}{'exercise':<44}{'points':>7}{'time limit':>12}   last result")
    for ex in _catalog_or_exit():
        last = results.get(ex.slug)
        shown = (f"{last['score']:g}/{last['max_score']:g} {last['status'].replace('_', ' ')} ({last['when']})"
                 if last else "not graded yet")
        limit = f"{ex.limits.exercise_seconds:g} s"
        typer.echo(f"{ex.id:<3}{ex.title[:42]:<44}{ex.max_score:>7g}{limit:>12}   {shown}")


def _saved_state(paths: list[Path]) -> tuple:
    """What changes when a file is saved (in place or by rename)."""
    found = []
    for p in paths:
        try:
            st = p.stat()
            found.append((str(p), st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            found.append((str(p), None))
    return tuple(found)


@app.command()
def watch(
    which: Annotated[str, typer.Argument(help="Exercise number (1-5) or slug.")],
    submission: SubmissionOpt = None,
    seed: SeedOpt = None,
) -> None:
    """Re-grade an exercise each time you save its file (Ctrl-C to stop)."""
    import time

    from grader import api

    directory = submission or _default_submission()
    with api.Grader() as grader:  # one warm zygote for every re-grade
        ex = _exercise_or_exit(which)
        nested, flat = directory / ex.slug / ex.file, directory / ex.file
        # The file grading would use: the exercise path if it exists, else the flat one.
        watched = [flat] if flat.is_file() and not nested.is_file() else [nested]
        typer.echo(f"Watching {watched[0]}: save it to re-grade, Ctrl-C to stop.", err=True)
        last = None
        first = True
        while True:
            now = _saved_state(watched)
            if now == last:
                time.sleep(0.1)
                continue
            noticed = time.perf_counter()
            time.sleep(0.05)  # let the editor finish writing
            if _saved_state(watched) != now:
                continue
            last = now
            report = _grade_or_exit(grader, directory, [ex.id], seed)
            _show(report, json_out=False, record=submission is None)
            if first:
                typer.echo("── first grade done; save the file to re-grade ──", err=True)
            else:
                typer.echo(f"── re-graded in {time.perf_counter() - noticed:.2f} s after the save was seen; "
                           "waiting for the next save ──", err=True)
            first = False


@app.command()
def validate(
    which: Annotated[str, typer.Argument(help="Exercise number, slug, or 'all'.")] = "all",
    mutants: Annotated[bool, typer.Option("--mutants", help="Mutation analysis of the checks instead: grade "
                                          "mutants of the correct solutions (see docs/mutants.md).")] = False,
    sample: Annotated[Optional[int], typer.Option("--sample", min=1, help="With --mutants: N mutants per exercise "
                                                  "(a deterministic sample; default: all).")] = None,
    mutant_seed: Annotated[int, typer.Option("--mutant-seed", help="Seed of the --sample.")] = 1234,
    json_out: Annotated[bool, typer.Option("--json", help="With --mutants: print one JSON document on stdout.")] = False,
    solutions: Annotated[Optional[Path], typer.Option("--solutions", help="Folder of the reference solutions "
                                                      "(<slug>/<file>); default: solutions/ of the clone.")] = None,
) -> None:
    """Instructor self-check: every solution scores full marks, every stub scores zero."""
    from grader import catalog

    exercises = list(_catalog_or_exit()) if which == "all" else [_exercise_or_exit(which)]
    if solutions is not None:
        if not solutions.is_dir():
            raise _fail(f"--solutions {solutions}: no such folder")
        catalog.use_solutions(solutions)
    if catalog.solutions_dir() is None:
        raise _fail(f"validate needs the reference solutions, and found none: {catalog.NO_SOLUTIONS}")
    if mutants:
        from grader.mutants.cli import validate_mutants

        raise typer.Exit(validate_mutants(exercises, sample, mutant_seed, json_out))
    if json_out:
        raise _fail("--json goes with --mutants")
    from grader import validate as validation

    with _stdout_to_stderr():
        problems = validation.validate(exercises, log=lambda m: typer.echo(m, err=True))
    for p in problems:
        typer.echo(f"✗ {p}")
    if problems:
        raise typer.Exit(EXIT_FAILED)
    typer.echo(f"✓ {len(exercises)} exercise(s): every solution scores full marks, every stub scores zero.")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the report."""
    import json

    from grader.report import Report

    typer.echo(json.dumps(Report.model_json_schema(), indent=2))


from grader.cli.init import register as _register_init_command  # noqa: E402

_register_init_command(app)

from grader.cli.batch import register as _register_batch_commands  # noqa: E402

_register_batch_commands(app)

from grader.cli.service import register as _register_service_commands  # noqa: E402

_register_service_commands(app)

from grader.cli.report import register as _register_report_command  # noqa: E402

_register_report_command(app)

from grader.cli.lti import register as _register_lti_commands  # noqa: E402

_register_lti_commands(app)

from grader.worker.cli import register as _register_worker_commands  # noqa: E402

_register_worker_commands(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("grade: interrupted", err=True)
        sys.exit(130)
