"""`grade init` and where local work is found: fast, in-process (tests/test_wheel.py does it from a wheel)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from grader import catalog, workspace
from grader.cli import app


def _invoke(args: list[str]):
    result = CliRunner().invoke(app, args)
    assert "Traceback" not in result.output + result.stderr
    return result


def test_init_writes_each_exercise_for_the_student_and_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made = _invoke(["init"])
    assert made.exit_code == 0, made.stderr
    ws = tmp_path / workspace.DEFAULT_DIR
    for ex in catalog.exercises():
        assert (ws / ex.slug / ex.file).read_bytes() == ex.stub_path.read_bytes()
        assert (ws / ex.slug / "README.md").is_file() and (ws / ex.slug / f"{ex.slug}.ipynb").is_file()
        assert not (ws / ex.slug / "exercise.toml").exists()
    assert (ws / "ex5_quantize" / "sine_model.npz").is_file()  # what the stub uses comes along
    assert (ws / workspace.MARKER).is_file()

    (ws / "ex1_loss" / "loss.py").write_text("# my work\n")
    again = _invoke(["init"])
    assert again.exit_code == 2 and "already exist" in again.stderr and "loss.py" in again.stderr
    assert (ws / "ex1_loss" / "loss.py").read_text() == "# my work\n"

    (tmp_path / "a-file").write_text("")
    assert _invoke(["init", "a-file"]).exit_code == 2


def test_the_work_is_the_nearest_workspace_else_the_clone(tmp_path):
    (tmp_path / workspace.MARKER).write_text("")
    (tmp_path / "ex3_two_layer").mkdir()
    found = workspace.find(tmp_path / "ex3_two_layer")
    assert found == workspace.Work(root=tmp_path, submission=tmp_path)
    clone = catalog.source().clone
    assert clone is not None  # these tests run from a clone
    assert workspace.find(Path("/")) == workspace.Work(root=clone, submission=clone / "exercises")
