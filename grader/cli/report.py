"""`grade report`: the class report of a batch, from its reports alone (no grading).

`grader/cli/app.py` adds it to its Typer app with `register(app)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def report(
    results: Annotated[Path, typer.Argument(help="the jsonl output of grade batch, or its --state directory")],
    html: Annotated[Path, typer.Option("--html", help="the page to write: one self-contained HTML file")],
    json_out: Annotated[Optional[Path], typer.Option("--json", help="also write every number of the page as JSON")] = None,
    similarity: Annotated[bool, typer.Option("--similarity", help="find pairs and clusters of submissions whose code is too alike")] = False,
    anonymise: Annotated[bool, typer.Option("--anonymise", help="replace every submission id (and name) by a label in both files")] = False,
    roster: Annotated[Optional[Path], typer.Option("--roster", help="a CSV with the columns submission,name[,section]")] = None,
    submissions: Annotated[Optional[Path], typer.Option("--submissions", help="for --similarity: the directory the batch graded [default: recorded by the batch]")] = None,
) -> None:
    """The class report of a batch: the class at a glance, the checks, the mistakes, the students (and similarity)."""
    from grader import classreport
    from grader.classreport.load import ReportInputError, read_results, read_roster, read_sources
    from grader.pool.store import atomic_write

    def fail(message: str, code: int = 2) -> typer.Exit:
        typer.echo(f"grade report: {message}", err=True)
        return typer.Exit(code)

    try:
        loaded = read_results(results)
        ids = [r["submission"] for r in loaded.reports]
        names = read_roster(roster, set(ids)) if roster is not None else None
        sources = None
        if similarity:
            where = submissions or loaded.submissions_dir
            if where is None:
                raise ReportInputError("--similarity needs the submissions: give --submissions DIR (the directory "
                                       "grade batch graded); this batch did not record it")
            sources = read_sources(where, ids)
    except ReportInputError as e:
        raise fail(str(e)) from None
    for p in loaded.problems:
        typer.echo(f"grade report: warning: {p}", err=True)
    if loaded.partial:
        typer.echo("grade report: warning: the batch is still running; the report is partial", err=True)
    data = classreport.build(loaded.reports, roster=names, anonymise=anonymise, sources=sources,
                             problems=loaded.problems, partial=loaded.partial, similarity=similarity)
    page = classreport.render_html(data)
    try:
        atomic_write(html, page)
        if json_out is not None:
            atomic_write(json_out, classreport.to_json(data))
    except OSError as e:
        raise fail(f"cannot write {e.filename}: {e.strerror}", 3) from None
    flagged = len(data.get("similarity", []))
    extra = f", {flagged} similar pair(s) flagged" if similarity else ""
    typer.echo(f"wrote {html}" + (f" and {json_out}" if json_out else "") +
               f": {data['submissions']} submission(s){extra}", err=True)


def register(app: typer.Typer) -> None:
    app.command(name="report")(report)
