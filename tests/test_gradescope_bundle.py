"""The Gradescope autograder bundle, built and run end to end in a temporary /autograder."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.gradescope import build_bundle

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).parent / "schemas" / "gradescope_results.schema.json"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build_bundle(tmp_path_factory.mktemp("bundle") / "autograder.zip", exercises=[1], seed=7, feedback="hint")


def _install(bundle: Path, root: Path) -> Path:
    """What Gradescope does with the zip: unpack it into /autograder/source, keeping modes."""
    source = root / "source"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(source)
        for info in zf.infolist():
            mode = info.external_attr >> 16
            if mode:
                (source / info.filename).chmod(stat.S_IMODE(mode))
    return source


@pytest.fixture(scope="module")
def venv(bundle, tmp_path_factory) -> Path:
    """What Gradescope does once: setup.sh builds a venv. Here from this Python 3.11 with its site-packages
    visible (--system-site-packages), so pip finds every requirement installed and downloads nothing."""
    root = tmp_path_factory.mktemp("setup")
    source = _install(bundle, root)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(GRADER_SOURCE_DIR=str(source), GRADER_VENV=str(root / "venv"), GRADER_SETUP_PYTHON=sys.executable,
               GRADER_VENV_OPTIONS="--system-site-packages", PIP_NO_INDEX="1")
    done = subprocess.run(["bash", str(source / "setup.sh")], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Requirement already satisfied: tensorflow" in done.stdout
    return root / "venv"


def _run_autograder(source: Path, root: Path, submission: Path, venv: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the bundle's own grader, nothing else
    env.update(GRADER_AUTOGRADER_ROOT=str(root), GRADER_SUBMISSION_DIR=str(submission),
               GRADER_PYTHON=str(venv / "bin" / "python"))
    done = subprocess.run([str(source / "run_autograder")], env=env, capture_output=True, text=True, timeout=300)
    results = root / "results" / "results.json"
    assert results.is_file(), done.stderr
    payload = json.loads(results.read_text())
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(payload, json.loads(SCHEMA.read_text()))
    return payload


def test_the_bundle_has_what_gradescope_needs_at_its_root(bundle):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        config = json.loads(zf.read("gradescope.json"))
    assert {"setup.sh", "run_autograder", "gradescope.json", "requirements.txt", "grader/api.py"} <= names
    assert {"grader/_course/course.toml", "grader/_course/ex1_loss/exercise.toml", "grader/_course/ex1_loss/loss.py",
            "grader/checks/ex1_loss.py", "grader/runner/probes/ex1_loss.py"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert not any(n.startswith(("solutions/", "tests/", "exercises/")) or "__pycache__" in n for n in names)
    solutions = {p.read_bytes() for p in (ROOT / "solutions").rglob("*.py")}
    with zipfile.ZipFile(bundle) as zf:
        assert not [n for n in names if n.endswith(".py") and zf.read(n) in solutions], "a reference solution is bundled"
    assert config["exercises"] == [1] and config["seed"] == 7 and config["feedback"] == "hint"


def test_the_scripts_are_valid_bash(bundle, tmp_path):
    source = _install(bundle, tmp_path)
    for script in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(source / script)], check=True)


@pytest.mark.parametrize("upload", ["file", "zip"])
def test_run_autograder_grades_a_solution(bundle, venv, tmp_path, upload):
    """Uploaded as the file, or as a zip of a folder holding it (Gradescope keeps the zip as it came)."""
    source = _install(bundle, tmp_path)
    submission = tmp_path / "submission"
    submission.mkdir()
    solution = (ROOT / "solutions" / "ex1_loss" / "loss.py").read_text()
    if upload == "file":
        (submission / "loss.py").write_text(solution)
    else:
        with zipfile.ZipFile(submission / "homework.zip", "w") as zf:
            zf.writestr("homework/ex1_loss/loss.py", solution)
    payload = _run_autograder(source, tmp_path, submission, venv)
    assert payload["score"] == 10
    assert [t["status"] for t in payload["tests"]] == ["passed"] * 4
    assert payload["extra_data"]["report"]["seed"] == 7


def test_run_autograder_reports_an_empty_submission(bundle, venv, tmp_path):
    source = _install(bundle, tmp_path)
    submission = tmp_path / "submission"
    submission.mkdir()
    payload = _run_autograder(source, tmp_path, submission, venv)
    assert payload["score"] == 0
    assert "missing" in payload["output"]
