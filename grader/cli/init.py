"""The `grade init` command: a student workspace, from the course the grader carries.

`grader/cli/app.py` adds it to its Typer app with `register(app)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def init(
    directory: Annotated[Path, typer.Argument(help="the folder to write [default: ./tinyml-exercises]")] = Path("tinyml-exercises"),
) -> None:
    """Make a workspace: a folder per exercise with its stub, README.md and notebook. Never overwrites a file."""
    from grader import catalog, workspace

    try:
        written = workspace.init(directory)
    except (workspace.WorkspaceError, catalog.CatalogError) as e:
        typer.echo(f"grade: {e}", err=True)
        raise typer.Exit(2) from None
    except OSError as e:
        typer.echo(f"grade: cannot write the workspace in {directory}: {e.strerror}", err=True)
        raise typer.Exit(2) from None
    exercises = catalog.exercises()
    typer.echo(f"Wrote {len(written)} files in {directory}/: one folder per exercise, e.g. {exercises[0].slug}/.")
    typer.echo(f"Next: cd {directory}/{exercises[0].slug}, write {exercises[0].file}, then `grade exercise "
               f"{exercises[0].id}`. `grade list` shows every exercise, `grade hint N` a hint.")


def register(app: typer.Typer) -> None:
    app.command(name="init")(init)
