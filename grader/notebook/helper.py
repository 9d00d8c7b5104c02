"""The kernel's warm helper: one long-lived grading process per notebook session.

The first `check()` starts a worker of the grading pool (`grader.pool.workers.Worker`, the
process `grade batch` and `grade serve` use), which holds a warm `grader.api.Grader`:
TensorFlow is imported there once, and every later check costs its checks only. The kernel
never imports TensorFlow for grading, never runs the checks, and sends only a path; the
worker sends back the JSON report.

    kernel -> worker, stdin    {"id": "notebook", "submission": "/tmp/grader-check-.../", "exercises": [1], "seed": null}
    worker -> kernel, stdout   {"id": "notebook", "report": {...}}

It dies with the kernel: its stdin closes when the kernel exits, and it watches the kernel's
pid (`--parent`) and kills itself and all it started when the kernel is killed. It runs in a
session of its own, so interrupting the kernel does not kill it; interrupting a check does
(it is mid-grading), and the next check starts a new one.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

START_SECONDS = 120.0  # the first check imports TensorFlow in the worker and its zygote


class HelperError(Exception):
    """The helper died or did not answer: the grader's fault, never the student's."""


class Helper:
    """One warm `grader.pool.workers.Worker`, started on the first check, replaced if it fails."""

    def __init__(self) -> None:
        self._worker = None
        self._scratch: Path | None = None

    @property
    def alive(self) -> bool:
        return self._worker is not None and self._worker.proc.poll() is None

    def grade(self, submission: Path, exercises: list[int], seed: int | None, timeout: float) -> dict:
        """The JSON report of `submission` (a folder of student files), graded by the warm worker."""
        from grader.pool.workers import Job, Worker, WorkerLost, WorkerTimeout

        first = not self.alive
        if first:
            self.close()
            self._scratch = Path(tempfile.mkdtemp(prefix="grader-helper-"))
            self._worker = Worker(self._scratch)
        job = Job(id="notebook", path=submission, exercises=exercises, seed=seed)
        try:
            report = self._worker.grade(job, timeout + (START_SECONDS if first else 0))
        except WorkerTimeout:
            self.close(kill=True)
            raise HelperError(f"the grader did not answer within {timeout:.0f} s") from None
        except WorkerLost as e:
            tail = "\n".join(e.log.strip().splitlines()[-8:])
            self.close(kill=True)
            raise HelperError(f"the grading process stopped ({e.message})" + (f":\n{tail}" if tail else "")) from None
        except KeyboardInterrupt:
            self.close(kill=True)  # it is mid-grading: the next check starts a fresh one
            raise
        return report.model_dump(mode="json")

    def close(self, kill: bool = False) -> None:
        """Stop the worker: between checks it ends when its stdin closes; `kill` ends it mid-check."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.kill() if kill else worker.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


_helper: Helper | None = None


def shared() -> Helper:
    """The kernel's one helper, started on first use and closed when the kernel exits."""
    global _helper
    if _helper is None:
        _helper = Helper()
        atexit.register(_helper.close)
    return _helper
