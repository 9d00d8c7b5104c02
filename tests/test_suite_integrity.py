"""The test suite can fail: no file from a submission or an attack is ever loaded as our pytest config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CONFIG_NAMES = ("conftest.py", "pytest.ini", "sitecustomize.py", "usercustomize.py", "tox.ini", "setup.cfg")
# Our own conftest files: the suite's, and the fixtures of the service, worker and LTI test packages.
OURS = {TESTS / "conftest.py", TESTS / "service" / "conftest.py", TESTS / "worker" / "conftest.py",
        TESTS / "lti" / "conftest.py"}


def test_only_our_conftest_is_loaded(request):
    loaded = {Path(getattr(p, "__file__", "")).resolve() for p in request.config.pluginmanager.get_plugins()
              if getattr(p, "__name__", "").endswith("conftest")}
    assert loaded <= OURS, f"unexpected conftest modules loaded: {loaded}"


def test_no_config_file_hides_in_test_data():
    found = [p for name in CONFIG_NAMES for p in TESTS.rglob(name) if p not in OURS]
    found += list(TESTS.rglob("*.pth"))
    assert not found, f"store planted files as '<name>.planted': {found}"


def test_a_failing_test_fails_the_run(tmp_path):
    """A canary: collecting the whole suite as CI does, a failing test is reported as failed."""
    canary = TESTS / "test_canary_must_fail.py"
    canary.write_text("def test_canary():\n    assert False, 'canary'\n")
    try:
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-k", "test_canary"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        canary.unlink()
    assert run.returncode == 1 and "1 failed" in run.stdout, run.stdout[-2000:]
