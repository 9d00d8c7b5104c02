"""Stand-ins for `grader.api.grade` and `grader.api.Grader`, so batch mechanics are tested in seconds.

`grade` reads `loss.py` (flat or at `ex1_loss/loss.py`) and obeys markers in it:
`# score: 7.5` gives that score for exercise 1, `# hang` sleeps forever,
`# crash` kills the process, `# raise` raises inside the grader, `# orphan` starts
a process in a session of its own (as the grader's runner does) and hangs,
`# leak` starts one and returns normally, leaving it running.

Each report's exercise output says which worker process graded it and how many
processes were running below that worker when it started. `Grader` grades the
same way and counts its submissions; with FAKE_WORKER_DIR set, each `Grader`
writes a file named after its worker's pid there.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from grader.pool.procs import descendants as _descendants
from grader.report import CheckResult, ExerciseResult, Report

PARTS = [("course_example", 2.5), ("random_vectors", 2.5), ("input_types", 2.5), ("differentiable", 2.5)]


def _checks(score: float) -> list[CheckResult]:
    checks = []
    left = score
    for part, points in PARTS:
        got = min(points, left)
        left -= got
        status = "passed" if got == points else "failed"
        checks.append(
            CheckResult(
                name=f"check {part}", id=part, status=status, score=got, max_score=points,
                message="" if status == "passed" else f"Expected something else in {part}.",
                hint="" if status == "passed" else f"Revisit {part}.",
            )
        )  # fmt: skip
    return checks


def grade(submission: Path, exercises: Sequence[int] | None = None, seed: int | None = None,
          submission_id: str | None = None) -> Report:  # fmt: skip
    below = len(_descendants(os.getpid()))
    file = next((p for p in (submission / "loss.py", submission / "ex1_loss" / "loss.py") if p.is_file()), None)
    text = file.read_text() if file else ""
    if "# leak" in text:
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"], start_new_session=True)
    if "# orphan" in text:  # like the grader's runner: student code in a session of its own, then a hang
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"], start_new_session=True)
        Path(os.environ["FAKE_PID_FILE"]).write_text(str(child.pid))
        time.sleep(3600)
    if "# hang" in text:
        time.sleep(3600)
    if "# crash" in text:
        os.kill(os.getpid(), signal.SIGKILL)
    if "# raise" in text:
        raise RuntimeError("the fake grader broke")
    if file is None:
        ex = ExerciseResult(id=1, slug="ex1_loss", title="Write the loss", status="missing", score=0, max_score=10,
                            message="No loss.py found.")  # fmt: skip
    else:
        m = re.search(r"# score: ([0-9.]+)", text)
        score = float(m.group(1)) if m else 0.0
        ex = ExerciseResult(
            id=1, slug="ex1_loss", title="Write the loss", status="passed" if score == 10 else "failed",
            score=score, max_score=10, checks=_checks(score), duration_s=0.1,
        )  # fmt: skip
    ex.output = f"worker {os.getpid()}; {below} processes below it"
    delay = float(os.environ.get("FAKE_GRADE_DELAY", "0"))
    time.sleep(delay)
    return Report(
        submission=submission_id or str(submission), score=ex.score, max_score=10,
        seed=1234 if seed is None else seed, grader_version="0.1.0", duration_s=0.1 + delay, exercises=[ex],
    )  # fmt: skip


class Grader:
    """Like `grader.api.Grader`: made once per worker, grades many submissions, closed at the end."""

    def __init__(self) -> None:
        self.graded = 0
        if os.environ.get("FAKE_WORKER_DIR"):
            Path(os.environ["FAKE_WORKER_DIR"], str(os.getpid())).write_text("")

    def grade(self, submission: Path, exercises: Sequence[int] | None = None, seed: int | None = None,
              submission_id: str | None = None) -> Report:  # fmt: skip
        self.graded += 1
        report = grade(submission, exercises, seed, submission_id)
        report.exercises[0].output += f"; submission {self.graded} of this Grader"
        return report

    def close(self) -> None:
        pass
