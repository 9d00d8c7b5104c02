"""`grade validate --mutants [N] [--json]`: the mutation analysis, printed."""

from __future__ import annotations

import json
from collections.abc import Sequence

import typer

from grader import catalog


def validate_mutants(exercises: Sequence[catalog.Exercise], size: int | None, seed: int, json_out: bool) -> int:
    """Run the analysis; exit code 0 when every exercise meets the targets, else 1."""
    from grader.cli.app import _stdout_to_stderr
    from grader.mutants.run import analyse, meets_targets, render

    def log(message: str) -> None:
        typer.echo(message, err=True)

    log(f"mutants: {'all' if size is None else f'a sample of {size}'} per exercise, seed {seed}")
    with _stdout_to_stderr():
        analysis = analyse(exercises, size, seed, log)
    if json_out:
        typer.echo(json.dumps(analysis, indent=1))
    else:
        typer.echo(render(analysis))
        rerun = "" if size is None else f" --sample {size} --mutant-seed {seed}"
        typer.echo(f"(seed {seed}; rerun: grade validate --mutants{rerun})")
    return 0 if all(meets_targets(r) for r in analysis["exercises"]) else 1
