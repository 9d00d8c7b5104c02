"""Mutants of an exercise's correct solutions: the reference and the scenarios' correct variants.

Only the functions a student writes are mutated (the exercise's `functions` and any helper
the student added), never code the stub gives. A mutant's id is stable and deterministic:

    <source>/<function>:<line in the function>:<column>/<operator>/<change>

e.g. `solution/loss:4:11/confused_name/reduce_mean>reduce_sum`. Mutants that cannot run on
any input (a name read before anything assigns it: UnboundLocalError on every call) are
"stillborn", like a program a compiler rejects: they are counted apart, never graded.
"""

from __future__ import annotations

import ast
import builtins
import copy
import random
from dataclasses import dataclass
from pathlib import Path

from grader import catalog
from grader.catalog import Exercise
from grader.mutants.operators import OPERATORS


@dataclass(frozen=True)
class Mutant:
    id: str
    source: str  # "solution" or the variant scenario's name
    function: str
    operator: str
    description: str
    code: str


def sources(ex: Exercise) -> list[tuple[str, Path]]:
    """The exercise's correct solutions: the reference, then each `variant_*` scenario's file (in a clone)."""
    found = [("solution", ex.solution_path)]
    clone = catalog.source().clone
    scenarios = clone / "tests" / "scenarios" / ex.slug if clone is not None else None
    for scenario in sorted(scenarios.glob("variant_*")) if scenarios is not None else ():
        files = sorted(p for p in (scenario / "submission").rglob(ex.file) if p.is_file())
        if files:
            found.append((scenario.name, files[0]))
    return found


def _given(ex: Exercise) -> set[str]:
    """Top-level functions the stub gives (not for the student to write)."""
    tree = ast.parse(ex.stub_path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))} - set(ex.functions)


def _skipped(func: ast.FunctionDef) -> set[int]:
    """Nodes never mutated: docstrings, error messages, signatures, f-string format specs."""
    skip: set[int] = set()
    for node in ast.walk(func):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            skip.update(id(n) for n in ast.walk(body[0]))
        if isinstance(node, (ast.Raise, ast.arguments)):
            skip.update(id(n) for n in ast.walk(node))
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            skip.update(id(n) for n in ast.walk(node.format_spec))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "reshape":
            # a target shape is structure (-1: "as many as needed"), not a number to be off by one
            owner = node.func.value
            function = isinstance(owner, ast.Attribute) or (isinstance(owner, ast.Name) and owner.id in ("tf", "np", "ops"))
            shape = node.args[1:] if function else node.args
            skip.update(id(n) for a in shape for n in ast.walk(a) if not isinstance(n, ast.Name))
    return skip


def _parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    found = {}
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        found[id(child)] = (parent, field, i)
            elif isinstance(value, ast.AST):
                found[id(value)] = (parent, field, None)
    return found


def _apply(tree: ast.Module, index: int, replace) -> tuple[str, str] | None:
    """A copy of `tree` with node number `index` (ast.walk order) replaced; its code and the change shown."""
    new_tree = copy.deepcopy(tree)
    node = list(ast.walk(new_tree))[index]
    before = ast.unparse(node)
    parent, field, i = _parents(new_tree)[id(node)]
    new = replace(node)
    if isinstance(node, ast.stmt):
        body = getattr(parent, field)
        spliced = [] if new is None else new if isinstance(new, list) else [new]
        body[i:i + 1] = spliced
        if not body:
            body.append(ast.Pass())
        after = "(dropped)" if new is None else "; ".join(ast.unparse(s) for s in spliced)
    elif i is None:
        setattr(parent, field, new)
        after = ast.unparse(new)
    else:
        getattr(parent, field)[i] = new
        after = ast.unparse(new)
    try:
        code = ast.unparse(ast.fix_missing_locations(new_tree))
        compile(code, "<mutant>", "exec")
    except (SyntaxError, ValueError, TypeError):
        return None
    if isinstance(node, ast.FunctionDef):
        return code, f"`{_short(ast.unparse(new.body[-2]))}` again before the return"
    return code, f"`{_short(before)}` -> `{_short(after)}`"


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def stillborn(code: str, functions: set[str]) -> bool:
    """Whether some function reads a name that nothing has assigned yet (it fails on every call)."""
    tree = ast.parse(code)
    module_names = set(dir(builtins))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            module_names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            module_names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            module_names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    for func in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in functions):
        bound, first_store, loads = set(module_names), {}, []
        # A name is bound once the statement that assigns it has evaluated its value.
        assigned_at = {}
        for node in ast.walk(func):
            value = (node.value if isinstance(node, (ast.Assign, ast.AugAssign)) else
                     node.iter if isinstance(node, ast.For) else None)
            if value is not None:
                for target in ast.walk(ast.Tuple(node.targets if isinstance(node, ast.Assign) else [node.target])):
                    assigned_at[id(target)] = (value.end_lineno, value.end_col_offset)
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                loads.append((node.target.id, (node.lineno, node.col_offset)))
        for node in ast.walk(func):
            if isinstance(node, (ast.FunctionDef, ast.Lambda)):
                bound.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
                if isinstance(node, ast.FunctionDef) and node is not func:
                    first_store.setdefault(node.name, (node.lineno, node.col_offset))
            elif isinstance(node, ast.comprehension):
                bound.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
            elif isinstance(node, ast.Name):
                pos = (node.lineno, node.col_offset)
                if isinstance(node.ctx, ast.Load):
                    loads.append((node.id, pos))
                else:
                    pos = assigned_at.get(id(node), pos)
                    if pos < first_store.get(node.id, (1 << 30, 0)):
                        first_store[node.id] = pos
            elif isinstance(node, ast.ExceptHandler) and node.name:
                first_store.setdefault(node.name, (node.lineno, node.col_offset))
        for name, pos in loads:
            if name in first_store and name not in bound and pos <= first_store[name]:
                return True
            if name not in first_store and name not in bound:
                return True
    return False


def mutants_of(ex: Exercise, label: str, text: str) -> tuple[list[Mutant], int]:
    """Every mutant of one correct file, and how many were stillborn."""
    tree = ast.parse(text)
    original = ast.unparse(tree)
    given = _given(ex)
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name not in given}
    nodes = list(ast.walk(tree))
    found: dict[str, Mutant] = {}
    dead = 0
    for func in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in functions):
        skip = _skipped(func)
        inside = {id(n) for n in ast.walk(func)}
        for index, node in enumerate(nodes):
            if id(node) not in inside or id(node) in skip:
                continue
            for op_name, op in OPERATORS.items():
                for token, replace in op(node):
                    line = getattr(node, "lineno", func.lineno) - func.lineno
                    mutant_id = f"{label}/{func.name}:{line}:{getattr(node, 'col_offset', 0)}/{op_name}/{token}"
                    applied = _apply(tree, index, replace)
                    if applied is None or applied[0] == original or mutant_id in found:
                        continue
                    code, change = applied
                    if any(m.code == code for m in found.values()):
                        continue
                    if stillborn(code, functions):
                        dead += 1
                        continue
                    description = f"{label}: {func.name}() line {line}, {op_name}: {change}"
                    found[mutant_id] = Mutant(mutant_id, label, func.name, op_name, description, code)
    return list(found.values()), dead


def generate(ex: Exercise) -> tuple[list[Mutant], int]:
    """Every mutant of every correct solution of the exercise, in a fixed order, and the stillborn count."""
    everything, dead = [], 0
    for label, path in sources(ex):
        found, stillborn_count = mutants_of(ex, label, path.read_text(encoding="utf-8"))
        everything += found
        dead += stillborn_count
    return everything, dead


def sample(mutants: list[Mutant], size: int | None, seed: int, slug: str) -> list[Mutant]:
    """A deterministic sample of `size` mutants (all of them when `size` is None or larger)."""
    if size is None or size >= len(mutants):
        return list(mutants)
    chosen = set(random.Random(f"{seed}:{slug}").sample(sorted(m.id for m in mutants), size))
    return [m for m in mutants if m.id in chosen]
