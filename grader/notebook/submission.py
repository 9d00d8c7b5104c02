"""Notebooks as submissions: `.ipynb` files turned into the student files the grader knows.

A submission may be one notebook (`alice.ipynb`, any exercises in it), or a folder holding
notebooks: one per exercise named after it (`ex1_loss.ipynb`, `loss.ipynb`, or inside the
exercise's folder `ex1_loss/ex1_loss.ipynb`), or notebooks with other names, searched for the
exercise's functions. A student `.py` file in the folder wins over any notebook.

For each exercise a notebook defines (at least one of its functions), `prepare` writes
`<slug>/<file>` built by `grader.notebook.assemble`: the functions, and the imports, helpers,
literal constants and top-level assignments they use. Nothing else in the notebook runs. What was left out, and a
notebook that cannot be read, are kept for the report (see `take`).
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from grader.catalog import Exercise, exercises
from grader.notebook import assemble, extract, ipynb

LEFT_OUT_NOTE = ("only a notebook's imports, definitions and constants, and the top-level assignments its functions "
                 "use, are graded")


@dataclass
class Prepared:
    notes: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # slug -> what the student reads
    looked_for: dict[str, str] = field(default_factory=dict)  # slug -> where a missing exercise was looked for
    built: dict[str, tuple[str, assemble.Built]] = field(default_factory=dict)  # slug -> (file, what it was built from)

    def relabel(self, result):
        """An exercise's result with lines of the built file named as the notebook's cells and lines."""
        if result.slug not in self.built:
            return result
        from grader.notebook.where import relabel_exercise

        data = result.model_dump()
        relabel_exercise(data, *self.built[result.slug])
        return type(result).model_validate(data)


# Directories `prepare` made in this process, and what the report must say about them. Kept
# here, not in a file next to the student files, so a submission cannot forge it.
_PREPARED: dict[str, Prepared] = {}


def take(directory: Path) -> Prepared:
    """What the report must say about a directory `prepare` made (nothing for any other directory)."""
    return _PREPARED.pop(str(directory.resolve()), Prepared())


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and not path.is_symlink()


def notebooks_in(directory: Path) -> list[Path]:
    """The notebooks of a folder: at its top and one level down, no hidden ones, no links, no checkpoints."""
    found = [p for p in directory.glob("*.ipynb") if _visible(p) and p.is_file()]
    for sub in sorted(directory.iterdir()):
        if sub.is_dir() and _visible(sub) and sub.name != "__MACOSX":
            found += [p for p in sub.glob("*.ipynb") if _visible(p) and p.is_file()]
    return sorted(found)


def _named_for(ex: Exercise, directory: Path) -> Path | None:
    stem = Path(ex.file).stem
    for candidate in (directory / f"{ex.slug}.ipynb", directory / f"{stem}.ipynb",
                      directory / ex.slug / f"{ex.slug}.ipynb", directory / ex.slug / f"{stem}.ipynb"):
        if candidate.is_file() and _visible(candidate) and _visible(candidate.parent):
            return candidate
    folder = directory / ex.slug
    inside = sorted(p for p in folder.glob("*.ipynb") if _visible(p) and p.is_file()) if _visible(folder) else []
    return inside[0] if len(inside) == 1 else None


def _names_an_exercise(path: Path) -> bool:
    return path.stem in {n for ex in exercises() for n in (ex.slug, Path(ex.file).stem)}


def _is_named(path: Path) -> bool:
    """In a folder, `loss.ipynb`, `ex1_loss.ipynb`, `ex1_loss/work.ipynb` belong to one exercise: not searched for others."""
    return _names_an_exercise(path) or path.parent.name in {ex.slug for ex in exercises()}


def stub(ex: Exercise):
    """A function of the exercise the notebook does not define yet: the stub's own, which raises NotImplementedError."""
    try:
        text = ex.stub_path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError):
        text, tree = "", ast.Module(body=[], type_ignores=[])
    lines = text.splitlines()
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}

    def chunk(name: str) -> extract.Chunk:
        if name in defs:
            node = defs[name]
            source = "\n".join(lines[node.lineno - 1 : node.end_lineno]) + "\n"
        else:
            source = f"def {name}(*args, **kwargs):\n    raise NotImplementedError({name + ' is not written yet'!r})\n"
        return extract.Chunk(name, extract.DEFINITION, source)

    return chunk


def student_file(ex: Exercise, scanned: extract.Scan, origin: str) -> assemble.Built | None:
    """The student file for `ex` from scanned cells, or None when they define none of its functions."""
    if not any(f in scanned.chunks or f in scanned.broken for f in ex.functions):
        return None
    header = f'"""{ex.file} for exercise {ex.id}, built by the grader from {origin}."""'
    return assemble.from_cells(scanned, ex.functions, stub(ex), header)


def prepare(path: Path, scratch: Path) -> Path:
    """The directory of student files for a notebook, or for a folder holding notebooks."""
    from grader.submission import locate

    out = scratch / "from-notebooks"
    out.mkdir(parents=True)
    prepared = Prepared()
    is_folder = path.is_dir()
    if is_folder:
        generic = [p for p in notebooks_in(path) if not _is_named(p)]
    else:  # one notebook: all exercises, or only the one it is named after (`ex2_train_step.ipynb`)
        generic = [] if _names_an_exercise(path) else [path]
    read: dict[Path, list[tuple[int, str]] | str] = {}

    def cells(source: Path) -> list[tuple[int, str]] | str:
        if source not in read:
            try:
                read[source] = ipynb.read(source)
            except ipynb.NotebookError as e:
                read[source] = str(e)
        return read[source]

    scans: dict[tuple[Path, ...], extract.Scan] = {}
    for ex in exercises():
        target = out / ex.slug / ex.file
        found = locate(path, ex) if is_folder else None
        if found is not None:
            target.parent.mkdir()
            shutil.copyfile(found, target)
            continue
        named = _named_for(ex, path) if is_folder else path if path.stem in (ex.slug, Path(ex.file).stem) else None
        sources = [named] if named is not None else generic
        readable = tuple(p for p in sources if not isinstance(cells(p), str))
        problems = [cells(p) for p in sources if isinstance(cells(p), str)]
        if problems and not readable:
            prepared.unreadable[ex.slug] = " ".join(problems)  # type: ignore[arg-type]
            continue
        prepared.notes += [f"left out: {problem}" for problem in problems]
        if readable not in scans:
            scans[readable] = extract.scan(cell for p in readable for cell in cells(p))  # type: ignore[union-attr]
        label = ", ".join(p.relative_to(path).as_posix() if is_folder else p.name for p in readable)
        built = student_file(ex, scans[readable], label)
        if built is None:
            functions = ", ".join(f"{f}()" for f in ex.functions)
            unread = [str(x.cell) for x in scans[readable].left_out if x.reason == "size"]
            prepared.looked_for[ex.slug] = f"{ex.slug}/{ex.file}, {ex.file}, or {functions} in {label}" + (
                f"; cell {', '.join(unread)} was not read: {extract.REASONS['size']}" if unread else "")
            continue
        target.parent.mkdir()
        target.write_text(built.source, encoding="utf-8")
        prepared.built[ex.slug] = (ex.file, built)
        left_out = scans[readable].describe_left_out(built.graded)
        if left_out:
            prepared.notes.append(f"{label}: {left_out} not run; {LEFT_OUT_NOTE}")
    _PREPARED[str(out.resolve())] = prepared
    return out


def error_result(ex: Exercise, message: str):
    """An exercise that could not be graded (its notebook unreadable...): an error, 0 points, the reason on every check."""
    from grader.report import CheckResult, ExerciseResult

    checks = [CheckResult(name=p.title, id=p.id, status="error", score=0.0, max_score=p.points, message=message,
                          hint=p.hint) for p in ex.parts]
    return ExerciseResult(id=ex.id, slug=ex.slug, title=ex.title, status="error", score=0.0, max_score=ex.max_score,
                          message=message, checks=checks)
