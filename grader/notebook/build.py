"""The exercises as notebooks: `exercises/<slug>/<slug>.ipynb`, generated from each README and stub.

    python -m grader.notebook.build           # (re)write the notebooks and the README badges
    python -m grader.notebook.build --check   # exit 1 if any is out of date (a test runs this)

Each notebook: a setup cell that installs the grader in Colab, the README as markdown, the
stub as code (its imports, then one cell per function or class), and a last cell `check(N)`.
The README gets an "Open in Colab" badge. Edit the README or the stub, never the notebook.

`PACKAGE` is the one place that says where the grader is installed from (the notebooks'
setup cell runs `%pip install PACKAGE` in Colab): the package's name on PyPI, which works
once tinyml-grader is published there; until then, a pip requirement such as
`git+https://github.com/ORG/tinyml-grader` or a wheel's URL. `COURSE_REPOSITORY` names the
course's public repository, which the "Open in Colab" badges open the notebooks from.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys

from grader.catalog import Exercise, exercises
from grader.notebook.ipynb import SETUP_TAG

PACKAGE = "tinyml-grader"  # what `pip install` is given in Colab: works once the package is on PyPI
COURSE_REPOSITORY = "https://github.com/YOUR-ORG/tinyml-grader"  # set to the course's repository before publishing
BRANCH = "main"
BADGE_ALT = "Open In Colab"


def colab_url(ex: Exercise) -> str:
    path = COURSE_REPOSITORY.removeprefix("https://github.com/").rstrip("/")
    return f"https://colab.research.google.com/github/{path}/blob/{BRANCH}/exercises/{ex.slug}/{ex.slug}.ipynb"


def badge(ex: Exercise) -> str:
    return f"[![{BADGE_ALT}](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(ex)})"


def _without_badge(readme: str) -> str:
    return "\n".join(line for line in readme.splitlines() if not line.startswith(f"[![{BADGE_ALT}]")) + "\n"


def readme_with_badge(readme: str, ex: Exercise) -> str:
    """The README with its badge just under the title (replacing an old one)."""
    lines = _without_badge(readme).splitlines()
    while len(lines) > 1 and lines[1] == "" and lines[2:3] == [""]:
        del lines[1]
    return "\n".join([lines[0], "", badge(ex), *lines[1:]]) + "\n"


def setup_source() -> str:
    return (
        "# In Colab, install the grader (once per session); it carries the exercises. Elsewhere this\n"
        "# only imports it: install it once with `pip install tinyml-grader`, then `grade init`.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "{PACKAGE}"\n'
        "\n"
        "from grader import check, hint\n"
    )


def stub_cells(source: str) -> list[str]:
    """The stub without its module docstring: its imports in one cell, then each definition in its own."""
    tree = ast.parse(source)
    lines = source.splitlines()
    cells: list[str] = []
    imports: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node is tree.body[0]:
            continue
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        text = "\n".join(lines[first - 1 : node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(text)
        else:
            cells.append(text)
    return (["\n".join(imports)] if imports else []) + cells


def _cell(kind: str, source: str, cell_id: str, tags: tuple[str, ...] = ()) -> dict:
    cell: dict = {"cell_type": kind, "id": cell_id, "metadata": {"tags": list(tags)} if tags else {},
                  "source": source.splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def notebook(ex: Exercise) -> dict:
    readme = _without_badge((ex.directory / "README.md").read_text(encoding="utf-8")).strip()
    stub = ex.stub_path.read_text(encoding="utf-8")
    cells = [
        _cell("code", setup_source(), "setup", (SETUP_TAG,)),
        _cell("markdown", readme, "task"),
        *(_cell("code", text, f"stub-{k}") for k, text in enumerate(stub_cells(stub), start=1)),
        _cell("markdown", f"Run the next cell to check your work; `hint({ex.id})` gives a hint, one more each time.",
              "check-intro"),
        _cell("code", f"check({ex.id})", "check"),
    ]
    return {
        "cells": cells,
        "metadata": {
            "colab": {"provenance": []},
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def render(ex: Exercise) -> str:
    return json.dumps(notebook(ex), indent=1, ensure_ascii=False) + "\n"


def outdated(chosen: tuple[Exercise, ...] | None = None) -> list[str]:
    """The generated files that differ from what their README and stub give."""
    stale = []
    for ex in exercises() if chosen is None else chosen:
        path = ex.directory / f"{ex.slug}.ipynb"
        if not path.is_file() or path.read_text(encoding="utf-8") != render(ex):
            stale.append(str(path))
        readme = (ex.directory / "README.md").read_text(encoding="utf-8")
        if readme != readme_with_badge(readme, ex):
            stale.append(str(ex.directory / "README.md"))
    return stale


def write() -> list[str]:
    written = []
    for ex in exercises():
        readme_path = ex.directory / "README.md"
        readme = readme_path.read_text(encoding="utf-8")
        if readme != readme_with_badge(readme, ex):
            readme_path.write_text(readme_with_badge(readme, ex), encoding="utf-8")
            written.append(str(readme_path))
        path = ex.directory / f"{ex.slug}.ipynb"
        if not path.is_file() or path.read_text(encoding="utf-8") != render(ex):
            path.write_text(render(ex), encoding="utf-8")
            written.append(str(path))
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m grader.notebook.build", description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only say whether the notebooks are up to date (exit 1 if not)")
    args = p.parse_args(argv)
    if args.check:
        stale = outdated()
        for path in stale:
            print(f"out of date: {path} (run python -m grader.notebook.build)", file=sys.stderr)
        return 1 if stale else 0
    for path in write():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
