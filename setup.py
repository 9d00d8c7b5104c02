"""How the wheel is laid out; the project's metadata is in pyproject.toml.

The wheel carries the course: the repository's `exercises/` (stubs, READMEs,
notebooks, exercise.toml, course.toml) becomes the package data `grader/_course/`,
which `grader.catalog.source()` reads when the grader is not run from a clone.
The hidden checks and probes are modules of `grader` already. `solutions/` is
never mapped, so neither the wheel nor the sdist carries a reference solution.
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).resolve().parent


def data_files(folder: str, *, code_is_data: bool) -> list[str]:
    """Every file under `folder` to ship as package data (paths relative to it), caches and hidden files left out."""
    root = HERE / folder
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*")
        if p.is_file() and not any(part.startswith((".", "__pycache__")) for part in p.relative_to(root).parts)
        and (code_is_data or p.suffix not in (".py", ".pyc"))
    )  # fmt: skip


setup(
    # Namespace packages too: grader/runner/probes/ has no __init__.py, and its modules must ship.
    packages=[*find_namespace_packages(include=["grader", "grader.*"], exclude=["*__pycache__*"]), "grader._course"],
    package_dir={"grader._course": "exercises"},
    # The course is data (its stubs are never imported from the package); grader/'s own
    # non-Python files (py.typed, templates) go with it whatever folder they are in.
    package_data={"grader": data_files("grader", code_is_data=False),
                  "grader._course": data_files("exercises", code_is_data=True)},
)
