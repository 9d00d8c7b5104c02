"""The kernel's warm helper: one long-lived grading process per notebook session.

The first `check()` starts the batch's own worker process (`python -m grader.batch_worker`),
which holds a warm `grader.api.Grader`: TensorFlow is imported there once, and every
later check costs its checks only. The kernel never imports TensorFlow for grading, never
runs the checks, and sends only a path; the helper sends back the JSON report.

    kernel -> helper, stdin    {"id": "notebook", "submission": "/tmp/.../check-3", "exercises": [1], "seed": null}
    helper -> kernel, stdout   {"id": "notebook", "report": {...}}

It dies with the kernel: its stdin closes when the kernel exits, and it watches the kernel's
pid (`--parent`) and kills itself and all it started when the kernel is killed. It runs in a
session of its own, so interrupting the kernel does not kill it; interrupting a check does
(it is mid-grading), and the next check starts a new one.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import grader

_ROOT = Path(grader.__file__).resolve().parent.parent
START_SECONDS = 120.0  # the first check imports TensorFlow in the helper and its zygote


class HelperError(Exception):
    """The helper died or did not answer: the grader's fault, never the student's."""


class Helper:
    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()
        self._scratch: Path | None = None
        self._log: Path | None = None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _start(self) -> None:
        self._scratch = Path(tempfile.mkdtemp(prefix="grader-helper-"))
        self._log = self._scratch / "helper.log"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")])),
               "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
        work = self._scratch / "work"
        work.mkdir()
        with open(self._log, "wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "grader.batch_worker", "--parent", str(os.getpid()), "--scratch", str(work)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=_ROOT, env=env,
                start_new_session=True, close_fds=True)
        replies = self._replies = queue.Queue()
        threading.Thread(target=_read_replies, args=(self._proc.stdout, replies), daemon=True).start()

    def grade(self, submission: Path, exercises: list[int], seed: int | None, timeout: float) -> dict:
        """The JSON report of `submission` (a folder of student files), graded by the warm helper."""
        first = not self.alive
        if first:
            self.close()
            self._start()
        assert self._proc is not None and self._proc.stdin is not None
        request = {"id": "notebook", "submission": str(submission), "exercises": exercises, "seed": seed}
        try:
            self._proc.stdin.write((json.dumps(request) + "\n").encode())
            self._proc.stdin.flush()
            line = self._replies.get(timeout=timeout + (START_SECONDS if first else 0))
        except (BrokenPipeError, OSError):
            line = None
        except queue.Empty:
            self.close(kill=True)
            raise HelperError(f"the grader did not answer within {timeout:.0f} s") from None
        except KeyboardInterrupt:
            self.close(kill=True)  # it is mid-grading: the next check starts a fresh one
            raise
        if line is None:
            tail = self._log_tail()
            self.close()
            raise HelperError("the grading process stopped" + (f":\n{tail}" if tail else ""))
        return json.loads(line)["report"]

    def _log_tail(self) -> str:
        try:
            return "\n".join(self._log.read_text(errors="replace").strip().splitlines()[-8:]) if self._log else ""
        except OSError:
            return ""

    def close(self, kill: bool = False) -> None:
        """Stop the helper: closing its stdin ends it between checks; `kill` ends it mid-check."""
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.stdin.close()  # type: ignore[union-attr]
                proc.wait(timeout=0 if kill else 10)
            except (OSError, subprocess.TimeoutExpired):
                from grader.batch_worker import kill_tree

                kill_tree(proc.pid)
                proc.wait()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def _read_replies(stream, replies: queue.Queue) -> None:
    for line in stream:
        if line.strip():
            replies.put(line)
    replies.put(None)  # EOF: the helper is gone


_helper: Helper | None = None


def shared() -> Helper:
    """The kernel's one helper, started on first use and closed when the kernel exits."""
    global _helper
    if _helper is None:
        _helper = Helper()
        atexit.register(_helper.close)
    return _helper
