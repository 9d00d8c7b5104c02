"""The Gradescope autograder: the bundle `grade gradescope-bundle` writes, and what it runs.

The bundle is a zip with `setup.sh` and `run_autograder` at its root (as
Gradescope's autograder specification asks), the grader's package as it is
installed (its code, and the course as package data in `grader/_course/`, never
a reference solution), `requirements.txt` (its dependencies) and
`gradescope.json` (the settings chosen when it was built). It is built the same
way from a clone and from a wheel install. Gradescope unpacks it into
/autograder/source, runs `setup.sh` once to build the image (a venv with the
dependencies), then `run_autograder` per submission, which calls
`python -m grader.gradescope` from the source folder to grade
/autograder/submission and write /autograder/results/results.json. Every path
can be overridden with an environment variable (see the scripts) so the bundle
runs anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

from grader import __version__, catalog
from grader.render import formats

CONFIG_NAME = "gradescope.json"


class BundleError(Exception):
    """The bundle cannot be built as asked (a stub was edited)."""

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image. Overrides:
#   GRADER_SOURCE_DIR (/autograder/source), GRADER_VENV (/autograder/venv),
#   GRADER_SETUP_PYTHON (default: the newest python3.13/3.12/3.11 found, else apt's 3.11),
#   GRADER_VENV_OPTIONS (extra `python -m venv` options, e.g. --system-site-packages).
set -euo pipefail
SOURCE="${GRADER_SOURCE_DIR:-/autograder/source}"
VENV="${GRADER_VENV:-/autograder/venv}"

PYTHON="${GRADER_SETUP_PYTHON:-}"
if [ -z "$PYTHON" ]; then
    for candidate in python3.13 python3.12 python3.11; do
        if "$candidate" -c "" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
    done
fi
if [ -z "$PYTHON" ]; then
    apt-get update
    apt-get install -y python3.11 python3.11-venv
    PYTHON=python3.11
fi
# Exercise 5 compiles the student's C array with gcc.
command -v gcc >/dev/null 2>&1 || { apt-get update; apt-get install -y gcc; }
"$PYTHON" -m venv ${GRADER_VENV_OPTIONS:-} "$VENV" || { apt-get install -y "$PYTHON-venv"; "$PYTHON" -m venv ${GRADER_VENV_OPTIONS:-} "$VENV"; }
# The grader itself runs from $SOURCE (run_autograder starts it there): only its dependencies are installed.
"$VENV/bin/python" -m pip install -r "$SOURCE/requirements.txt"
"$VENV/bin/python" -c "import sys; sys.path.insert(0, '$SOURCE'); from grader import catalog; catalog.exercises()"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. Each path can be overridden:
#   GRADER_AUTOGRADER_ROOT (/autograder), GRADER_SOURCE_DIR ($ROOT/source),
#   GRADER_SUBMISSION_DIR ($ROOT/submission), GRADER_RESULTS_DIR ($ROOT/results),
#   GRADER_PYTHON ($ROOT/venv/bin/python, else python3).
set -u
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
SOURCE="${GRADER_SOURCE_DIR:-$ROOT/source}"
SUBMISSION="${GRADER_SUBMISSION_DIR:-$ROOT/submission}"
RESULTS="${GRADER_RESULTS_DIR:-$ROOT/results}"
PYTHON="${GRADER_PYTHON:-$ROOT/venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
mkdir -p "$RESULTS"
cd "$SOURCE"
exec "$PYTHON" -m grader.gradescope --submission "$SUBMISSION" \\
    --results "$RESULTS/results.json" --config "$SOURCE/gradescope.json"
"""

def _package_files() -> list[tuple[str, Path]]:
    """The grader's package as installed, as (name in the bundle, file): its code, then the course as package data."""
    package = Path(__file__).resolve().parent
    course = catalog.exercises_dir()
    files = [(p.relative_to(package.parent).as_posix(), p) for p in _files_under(package)
             if course not in p.parents]
    files += [(f"grader/_course/{p.relative_to(course).as_posix()}", p) for p in _files_under(course)]
    return files


def _files_under(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*"))
            if p.is_file() and not any(part.startswith((".", "__pycache__")) for part in p.relative_to(folder).parts)]


def requirements() -> list[str]:
    """The grader's dependencies: from the clone's pyproject.toml, else from the installed distribution."""
    clone = catalog.source().clone
    if clone is not None:
        import tomllib

        return list(tomllib.loads((clone / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"])
    from importlib.metadata import requires

    return [r for r in requires("tinyml-grader") or [] if "extra ==" not in r]


def _add(zf: zipfile.ZipFile, arcname: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    zf.writestr(info, data)


def build_bundle(
    out: Path,
    exercises: Sequence[int] | None = None,
    seed: int | None = None,
    visibility: formats.Visibility = "visible",
    feedback: formats.Feedback = "full",
) -> Path:
    """Write the autograder zip for Gradescope; returns `out`.

    If the instructor's secret-seed variable is set, its value goes into the
    bundle (Gradescope keeps the bundle from students), so graded runs use
    hidden inputs. The reference solutions are not bundled.
    """
    from grader.stubs import edited_stubs

    edited = edited_stubs(catalog.exercises())
    if edited:
        raise BundleError(f"{', '.join(edited)} {'is' if len(edited) == 1 else 'are'} not the stub (edited?): the "
                          "bundle ships exercises/ to Gradescope, so it must hold the stubs as committed. "
                          f"Restore {'it' if len(edited) == 1 else 'them'} (git checkout -- exercises/) and build again.")
    config = {
        "exercises": list(exercises) if exercises is not None else None,
        "seed": seed,
        "visibility": visibility,
        "feedback": feedback,
        "grader_version": __version__,
    }
    secret = os.environ.get(catalog.course().secret_seed_env)
    if secret:
        config["secret_seed"] = secret
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            _add(zf, "setup.sh", SETUP_SH.encode(), executable=True)
            _add(zf, "run_autograder", RUN_AUTOGRADER.encode(), executable=True)
            _add(zf, CONFIG_NAME, (json.dumps(config, indent=2) + "\n").encode())
            _add(zf, "requirements.txt", "".join(f"{r}\n" for r in requirements()).encode())
            for name, path in _package_files():
                _add(zf, name, path.read_bytes())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def _failure_results(message: str, started: float) -> dict:
    return {"score": 0.0, "execution_time": round(time.monotonic() - started, 1), "output": message, "tests": []}


def uploaded(submission: Path) -> Path:
    """What the student uploaded: the submission folder, or the one zip in it when that is all it holds.

    Gradescope keeps an uploaded `.zip` as a file in /autograder/submission; the docs let a
    student upload "a zip of them", so a folder whose only visible entry is a zip is that zip.
    """
    if not submission.is_dir():
        return submission
    entries = [p for p in submission.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_file() and not entries[0].is_symlink() \
            and entries[0].suffix.lower() == ".zip":
        return entries[0]
    return submission


def run(submission: Path, results: Path, config: dict) -> int:
    """Grade one Gradescope submission into `results` (results.json). Always writes it."""
    from grader.submission import SubmissionError, prepare

    started = time.monotonic()
    if config.get("secret_seed"):
        os.environ[catalog.course().secret_seed_env] = str(config["secret_seed"])
    results.parent.mkdir(parents=True, exist_ok=True)
    try:
        from grader.api import grade

        with tempfile.TemporaryDirectory(prefix="grader-sub-") as scratch:
            root = prepare(uploaded(submission), Path(scratch))
            report = grade(root, exercises=config.get("exercises"), seed=config.get("seed"), submission_id="submission")
        payload = formats.gradescope(report, config.get("visibility", "visible"), config.get("feedback", "full"))
        code = 0
    except SubmissionError as e:
        payload = _failure_results(f"Your submission could not be opened: {e}", started)
        code = 0
    except Exception as e:  # the grader failed: tell the student and the instructor, still write a result
        payload = _failure_results(
            "The autograder failed while grading your submission; your instructor has been given the details. "
            f"({type(e).__name__})",
            started,
        )
        print(f"grader failure: {type(e).__name__}: {e}", file=sys.stderr)
        import traceback

        traceback.print_exc()
        code = 3
    tmp = results.with_name(results.name + ".part")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, results)
    return code


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m grader.gradescope", description="grade one Gradescope submission")
    p.add_argument("--submission", type=Path, required=True)
    p.add_argument("--results", type=Path, required=True)
    p.add_argument("--config", type=Path)
    args = p.parse_args(argv)
    config = json.loads(args.config.read_text(encoding="utf-8")) if args.config and args.config.is_file() else {}
    return run(args.submission, args.results, config)


if __name__ == "__main__":
    sys.exit(main())
