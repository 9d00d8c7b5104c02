"""The instructor's self-check: the catalog is consistent, solutions score full marks, stubs zero."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence

from grader import api, catalog
from grader.judge.exercise import check_module
from grader.stubs import edited_stubs


def _defined_functions(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


def consistency(ex: catalog.Exercise) -> list[str]:
    """Static problems: missing files, parts without checks, checks without parts, functions absent, stale notebook."""
    problems = []
    for what, path in (("stub", ex.stub_path), ("solution", ex.solution_path), ("check module", check_module(ex)),
                       ("README", ex.directory / "README.md")):
        if not path.is_file():
            problems.append(f"{ex.slug}: the {what} {path} does not exist")
    if problems:
        return problems
    checks = {n.removeprefix("check_") for n in _defined_functions(check_module(ex)) if n.startswith("check_")}
    parts = {p.id for p in ex.parts}
    problems += [f"{ex.slug}: part '{p}' has no check_{p} in {check_module(ex).name}" for p in sorted(parts - checks)]
    problems += [f"{ex.slug}: check_{c} in {check_module(ex).name} is not a part in exercise.toml" for c in sorted(checks - parts)]
    for what, path in (("stub", ex.stub_path), ("solution", ex.solution_path)):
        missing = set(ex.functions) - _defined_functions(path)
        problems += [f"{ex.slug}: the {what} does not define {f}()" for f in sorted(missing)]
    from grader.notebook.build import outdated

    problems += [f"{ex.slug}: {path} is out of date: run python -m grader.notebook.build" for path in outdated((ex,))]
    return problems


def validate(exercises: Sequence[catalog.Exercise], log: Callable[[str], None] = lambda m: None) -> list[str]:
    problems = [p for ex in exercises for p in consistency(ex)]
    if problems:
        return problems
    edited = set(edited_stubs(exercises))
    ids = [ex.id for ex in exercises]
    with api.Grader() as grader:
        log("grading the solutions...")
        solutions = grader.grade(catalog.solutions_dir(), ids, submission_id="solutions")
        log("grading the stubs...")
        stubs = grader.grade(catalog.exercises_dir(), ids, submission_id="stubs")
    for sol, stub in zip(solutions.exercises, stubs.exercises):
        if sol.status != "passed" or sol.score != sol.max_score:
            failing = [f"{c.id} ({c.message})" for c in sol.checks if c.status != "passed"] or [sol.message]
            problems.append(f"{sol.slug}: the solution scores {sol.score:g}/{sol.max_score:g}: " + "; ".join(failing))
        stub_file = next(ex.stub_path.relative_to(catalog.REPO_ROOT).as_posix() for ex in exercises if ex.slug == stub.slug)
        if stub_file in edited:
            problems.append(f"{stub_file} is not the stub (edited?): every function the student writes must only "
                            f"raise NotImplementedError; it scores {stub.score:g}")
        elif stub.status != "not_attempted" or stub.score != 0:
            passing = [c.id for c in stub.checks if c.status == "passed"]
            problems.append(f"{stub.slug}: the stub scores {stub.score:g} with status {stub.status}"
                            + (f"; passing: {', '.join(passing)}" if passing else f" ({stub.message})"))
        log(f"{sol.slug}: solution {sol.score:g}/{sol.max_score:g}, stub {stub.score:g} ({stub.status})")
    if solutions.grader_errors or stubs.grader_errors:
        problems.append("the grader itself failed on some checks (see stderr)")
    return problems
