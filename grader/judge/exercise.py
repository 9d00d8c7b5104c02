"""Judge the exercises of one submission: runners up, hidden checks through one pytest session, results out."""

from __future__ import annotations

import ast
import contextlib
import io
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from grader.catalog import Exercise, solutions_dir
from grader.judge import python_ideas
from grader.judge.plugin import CheckCollector, ChecksPlugin, Seeds
from grader.report import CheckResult, ExerciseResult, round_score
from grader.runner.client import NotAttempted, RunnerLimits, RunnerSession, StudentError
from grader.runner.launch import Launcher

CHECKS_DIR = Path(__file__).resolve().parent.parent / "checks"
PROBES_DIR = Path(__file__).resolve().parent.parent / "runner" / "probes"

# Expensive references (a converted model, a trained perceptron) shared by the
# checks of every submission graded in this process with the same seeds.
_REFERENCE_CACHES: dict[tuple, dict] = {}


def check_module(ex: Exercise) -> Path:
    return CHECKS_DIR / f"{ex.slug}.py"


def probes_module(ex: Exercise) -> Path | None:
    p = PROBES_DIR / f"{ex.slug}.py"
    return p if p.exists() else None


def needs_tensorflow(ex: Exercise) -> bool:
    """Whether the exercise's checks import TensorFlow or Keras in the judge.

    Read from the source (the check module and the grader modules it imports), so the
    judge can start that 3-second import early, overlapping the runner's, or skip it.
    """
    return _imports_tensorflow(check_module(ex))


@cache
def _imports_tensorflow(path: Path) -> bool:
    return _scan_imports(path, set())


def _scan_imports(path: Path, seen: set[Path]) -> bool:
    if path in seen:  # modules may import each other (runner/client.py and runner/watchdog.py do)
        return False
    seen.add(path)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return True  # cannot tell: assume so
    root = CHECKS_DIR.parent.parent
    for node in ast.walk(tree):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
        for name in names:
            if name.split(".")[0] in ("tensorflow", "keras", "tf_keras"):
                return True
            if name.startswith("grader."):
                module = root.joinpath(*name.split("."))
                for candidate in (module.with_suffix(".py"), module / "__init__.py"):
                    if candidate.is_file() and _scan_imports(candidate, seen):
                        return True
    return False


def open_session(ex: Exercise, student_file: Path, seeds: Seeds, *, submission_root: Path | None = None,
                 limits: dict | None = None, launcher: Launcher | None = None) -> RunnerSession:
    """Start the runner for a student file (it gets ready while the judge works).

    `limits` overrides the exercise's `[limits]` (tests use small ones). The runner
    cannot see the reference solutions, the hidden checks or the submission's folder.
    """
    hide = (*filter(None, [solutions_dir()]), CHECKS_DIR, Path(student_file).resolve().parent,
            *((submission_root.resolve(),) if submission_root else ()))
    session = RunnerSession(student_file, probes_file=probes_module(ex),
                            limits=RunnerLimits(**{**ex.limits.model_dump(), **(limits or {})}),
                            runtime_seed=seeds.runtime_seed(ex.slug), hide=hide,
                            launcher=launcher)
    session.start()
    return session


def _all_parts(ex: Exercise, status: str, message: str, hint: str | None = None) -> list[CheckResult]:
    return [CheckResult(name=p.title, id=p.id, status=status, score=0.0, max_score=p.points,  # type: ignore[arg-type]
                        message=message, hint=hint or p.hint) for p in ex.parts]


def missing_result(ex: Exercise, looked_for: str) -> ExerciseResult:
    msg = f"No {ex.file} found in the submission (looked for {looked_for})."
    return ExerciseResult(id=ex.id, slug=ex.slug, title=ex.title, status="missing", score=0.0,
                          max_score=ex.max_score, message=msg, checks=_all_parts(ex, "failed", msg))


@dataclass
class Judged:
    """An exercise whose checks have run, its runner not yet stopped.

    `finish()` stops the runner (tens of milliseconds: its process tree is killed and
    looked for again) and collects what the student's code printed, so the judge can
    start on the next exercise meanwhile. It returns the result, the grader's internal
    errors and notes on the environment.
    """

    session: RunnerSession
    result: ExerciseResult  # without the output
    internal: list[str]
    notes: list[str]

    def finish(self) -> tuple[ExerciseResult, list[str], list[str]]:
        self.session.close()  # collects everything the student's code printed
        return self.result.model_copy(update={"output": self.session.output()}), self.internal, self.notes


def judge_exercises(runs: Sequence[tuple[Exercise, RunnerSession]], seeds: Seeds,
                    judged: Callable[[Exercise, Judged], None]) -> None:
    """Run the hidden checks of each exercise against its open runner session, in one pytest session.

    `judged(exercise, Judged)` is called as soon as an exercise's checks are done (its
    module fixtures torn down), so its runner can be stopped while the next one is judged.
    Each exercise keeps its own runner, limits, deadline, seeds and reference cache.
    """
    if not runs:
        return  # pytest given no module would collect its working directory
    collectors = {check_module(ex): CheckCollector(ex, session, seeds,
                                                   _REFERENCE_CACHES.setdefault((ex.slug, seeds.seed, seeds.secret), {}))
                  for ex, session in runs}
    started: dict[int, float] = {}
    done: set[int] = set()
    failure: list[BaseException] = []  # the judge's own error in begin/end: raised once pytest is done

    def begin(c: CheckCollector) -> bool:
        ex, session = c.exercise, c.session
        started[ex.id] = time.perf_counter()
        try:
            session.wait_ready()
        except StudentError as e:
            done.add(ex.id)
            status, check_status = ("not_attempted", "failed") if isinstance(e, NotAttempted) else ("error", "error")
            judged(ex, Judged(session, ExerciseResult(**_base(ex), status=status, score=0.0, message=e.feedback,  # type: ignore[arg-type]
                                                      duration_s=time.perf_counter() - started[ex.id],
                                                      checks=_all_parts(ex, check_status, e.feedback,
                                                                        python_ideas.idea(getattr(e, "exc_type", None)))),
                              [], list(session.notes)))
            return False
        except BaseException as e:  # noqa: BLE001  (the judge's own error: raised once pytest is done)
            failure.append(e)
            return False
        return not failure

    def end(c: CheckCollector) -> None:
        done.add(c.exercise.id)
        try:
            judged(c.exercise, _judged(c, started[c.exercise.id]))
        except BaseException as e:  # noqa: BLE001  (likewise)
            failure.append(e)

    _run_pytest(list(collectors), ChecksPlugin(collectors, begin, end))
    if failure:
        raise failure[0]
    for c in collectors.values():  # a check module that could not be collected ran no check
        if c.exercise.id not in done and (c.exercise.id in started or begin(c)):
            end(c)
    if failure:
        raise failure[0]


def _base(ex: Exercise) -> dict:
    return {"id": ex.id, "slug": ex.slug, "title": ex.title, "max_score": ex.max_score}


def _judged(collector: CheckCollector, start: float) -> Judged:
    ex, session = collector.exercise, collector.session
    checks, internal = [], list(collector.internal_errors)
    for part in ex.parts:
        result = collector.results.get(part.id)
        if result is None:
            internal.append(f"{ex.slug}: no check ran for part '{part.id}' (expected check_{part.id} in {check_module(ex).name})")
            result = CheckResult(name=part.title, id=part.id, status="error", score=0.0, max_score=part.points,
                                 message="The grader has no check for this part (not your fault): please tell your instructor.")
        checks.append(result)

    score = round_score(sum(c.score for c in checks))
    if all(c.status == "passed" for c in checks):
        status, message = "passed", "All checks passed."
    elif len(collector.not_attempted) == len(checks):
        status, message = "not_attempted", "Not attempted yet: " + ", ".join(f"{f}()" for f in ex.functions) + (" still raise" if len(ex.functions) > 1 else " still raises") + " NotImplementedError."
    else:
        status = "failed"
        message = f"{sum(c.status == 'passed' for c in checks)} of {len(checks)} checks passed."
    return Judged(session, ExerciseResult(**_base(ex), status=status, score=score, message=message,  # type: ignore[arg-type]
                                          duration_s=time.perf_counter() - start,
                                          student_s=round(session.student_seconds, 3), checks=checks),
                  internal, [*session.notes, *collector.notes])


def _run_pytest(modules: list[Path], plugin: ChecksPlugin) -> None:
    args = [
        *map(str, modules), "--assert=plain", "--noconftest", "-p", "no:cacheprovider", "-p", "no:terminal",
        "-p", "no:warnings", "-p", "no:logging",
        # Both would gc.collect() five times per run: seconds, with TensorFlow's heap loaded.
        "-p", "no:unraisableexception", "-p", "no:threadexception", "--capture=no", "-c", os.devnull,
        "--rootdir", str(CHECKS_DIR), "--continue-on-collection-errors",  # one module's error spares the others
        "-o", "python_functions=check_*", "-o", "python_files=*.py", "--import-mode=importlib",
    ]
    saved = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no third-party plugin touches grading
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            pytest.main(args, plugins=[plugin])
    finally:
        if saved is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved
