"""Bad input to the command line: a clear message on stderr and the contract's exit code, never a traceback.

Each case stops before anything is graded, so these run in well under a second each.
"""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from grader import api
from grader.cli import app

USAGE = 2


def _invoke(args: list[str], **kw):
    result = CliRunner().invoke(app, args, **kw)
    assert "Traceback" not in result.output + result.stderr, result.output + result.stderr
    return result


@pytest.mark.parametrize("args", [
    ["exercise", "1", "--seed", "-1", "--json"],
    ["batch", ".", "--out", "o.jsonl", "--seed", "-1"],
    ["gradescope-bundle", "--out", "a.zip", "--seed", "-1"],
])  # fmt: skip
def test_a_negative_seed_is_a_usage_error(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _invoke(args)
    assert result.exit_code == USAGE and result.stdout == ""
    assert "--seed" in result.stderr and not (tmp_path / "a.zip").exists()


@pytest.mark.parametrize("secret", ["-5", "abc"])
def test_the_api_refuses_seeds_numpy_cannot_take(secret, monkeypatch):
    with pytest.raises(api.GradingError, match="non-negative"):
        api.resolve_seeds(-1)
    monkeypatch.setenv("GRADER_SECRET_SEED", secret)
    with pytest.raises(api.GradingError, match="GRADER_SECRET_SEED must be a non-negative integer"):
        api.resolve_seeds(None)


def test_a_bundle_is_not_built_with_a_secret_seed_that_would_fail_every_run(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_SEED", "abc")
    result = _invoke(["gradescope-bundle", "--out", str(tmp_path / "a.zip")])
    assert result.exit_code == USAGE and "GRADER_SECRET_SEED" in result.stderr
    assert not (tmp_path / "a.zip").exists()


@pytest.mark.parametrize("content", [
    {"hints": {"ex1_loss": "x"}, "results": {"ex1_loss": {"score": "a", "max_score": 1, "status": 3, "when": 1}}},
    {"hints": [1, 2], "results": []},
    {"hints": {"ex1_loss": None}, "results": {"ex1_loss": "passed"}},
])  # fmt: skip
def test_list_and_hint_survive_a_state_file_of_the_wrong_shape(content, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tinyml-workspace.toml").write_text("")  # a `grade init` workspace keeps its state in .grader/
    (tmp_path / ".grader").mkdir()
    (tmp_path / ".grader" / "state.json").write_text(json.dumps(content))
    listed = _invoke(["list"])
    assert listed.exit_code == 0 and "not graded yet" in listed.stdout
    hinted = _invoke(["hint", "1"])
    assert hinted.exit_code == 0 and "hint 1 of" in hinted.stdout
    assert json.loads((tmp_path / ".grader" / "state.json").read_text())["hints"] == {"ex1_loss": 1}


def test_a_bundle_that_cannot_be_written_says_so(tmp_path):
    (tmp_path / "a-dir").mkdir()
    (tmp_path / "a-file").write_text("")
    for out in (tmp_path / "a-dir", tmp_path / "a-file" / "autograder.zip"):
        result = _invoke(["gradescope-bundle", "--out", str(out)])
        assert result.exit_code == 3 and f"cannot write {out}" in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-dir", "a-file"]


def test_an_unknown_exercise_in_a_list_names_the_option(tmp_path):
    result = _invoke(["batch", str(tmp_path), "--out", str(tmp_path / "o.jsonl"), "--exercise", "1,9"])
    assert result.exit_code == USAGE and "--exercise" in result.stderr and "unknown exercise '9'" in result.stderr


def test_serve_does_not_start_with_a_secret_seed_every_submission_would_fail_on(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_SEED", "change-me")
    result = _invoke(["serve", "--data", str(tmp_path / "data"), "--port", "0", "--workers", "1"])
    assert result.exit_code == USAGE and "GRADER_SECRET_SEED must be a non-negative integer" in result.stderr
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("args", [["keys", "list"], ["keys", "revoke", "moodle"]])
def test_keys_on_a_mistyped_data_directory_say_so_and_create_nothing(args, tmp_path):
    result = _invoke([*args, "--data", str(tmp_path / "typo")])
    assert result.exit_code == USAGE and "no service database" in result.stderr and result.stdout == ""
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("where", ["a-file", "a-file/data"])
@pytest.mark.parametrize("command", [["keys", "create", "moodle"], ["serve", "--workers", "1"]])
def test_a_data_path_that_cannot_be_a_directory_says_why(command, where, tmp_path):
    (tmp_path / "a-file").write_text("")
    result = _invoke([*command, "--data", str(tmp_path / where)])
    assert result.exit_code == USAGE and result.stdout == "", result.stderr
    assert "Errno" not in result.stderr
    assert ("is a file: give a directory" if where == "a-file" else f"is under {tmp_path / 'a-file'}, which is a file") \
        in result.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "no.such.host.invalid"])
def test_serve_on_an_address_it_cannot_listen_on_is_one_line_and_never_says_serving(host, tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        run = subprocess.run([sys.executable, "-m", "grader", "serve", "--host", host, "--port",
                              str(taken.getsockname()[1]), "--data", str(tmp_path / "data"), "--workers", "1"],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 3 and run.stdout == ""
    assert run.stderr.startswith(f"grade: cannot listen on {host}:") and run.stderr.count("\n") == 1, run.stderr
    assert ("another process listens there" if host == "127.0.0.1" else "--host") in run.stderr


def test_a_student_file_that_is_a_symbolic_link_is_named_as_such(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "loss.py").symlink_to("/etc/passwd")
    result = _invoke(["exercise", "1", "--submission", str(tmp_path / "sub"), "--json"], env={"GRADER_NO_ZYGOTE": "1"})
    assert result.exit_code == 1, result.stderr
    ex = json.loads(result.stdout)["exercises"][0]
    assert ex["status"] == "missing" and "loss.py is a symbolic link" in ex["message"]


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04" + bytes(40)])
def test_a_broken_zip_is_a_usage_error_naming_the_file_with_nothing_on_stdout(content, tmp_path):
    (tmp_path / "hw1.zip").write_bytes(content)
    result = _invoke(["exercise", "all", "--submission", str(tmp_path / "hw1.zip"), "--json"],
                     env={"GRADER_NO_ZYGOTE": "1"})
    assert result.exit_code == USAGE and result.stdout == ""
    assert "hw1.zip: not a valid zip archive" in result.stderr


def test_a_worker_does_not_start_with_a_secret_seed_every_job_would_fail_on(monkeypatch):
    import subprocess
    import sys

    env = {**os.environ, "GRADER_SECRET_SEED": "change-me"}
    run = subprocess.run([sys.executable, "-m", "grader", "worker", "--broker", "redis://127.0.0.1:1/0"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == USAGE and "GRADER_SECRET_SEED must be a non-negative integer" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_worker_gives_up_on_a_broker_it_cannot_reach_at_start_with_one_line():
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "grader", "worker", "--broker", "redis://:pw@127.0.0.1:1/0",
                          "--connect-timeout", "0.5"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 3 and run.stdout == "" and run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith("grade: cannot reach the broker redis://:**@127.0.0.1:1/0 within 0.5 s")
    assert "pw" not in run.stderr


def test_the_judge_reads_the_imports_of_every_check_module_despite_import_cycles():
    from grader import catalog
    from grader.judge.exercise import needs_tensorflow

    assert all(isinstance(needs_tensorflow(ex), bool) for ex in catalog.exercises())
