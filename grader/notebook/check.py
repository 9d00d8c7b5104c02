"""`check(N)` and `hint(N)` for Jupyter and Colab (see `from grader import check, hint`).

`check` rebuilds the exercise's student file from the notebook's current definitions
(`grader.notebook.live`), hands its path to the kernel's warm helper, and returns the
report as a `Result` that shows itself as an HTML card (Jupyter, Colab) or as text. The
student's code runs only in the grader's sandboxed runner, exactly as for `grade exercise
N` on the same file. `hint` shares its progress with `grade hint` (`.grader/state.json`).
"""

from __future__ import annotations

import shutil
import tempfile
import types
from datetime import datetime, timezone
from pathlib import Path

from grader.web import card

SUBMISSION_ID = "notebook"


class Result:
    """A `check()` verdict: `.report` is the JSON report (None when nothing could be graded)."""

    def __init__(self, report: dict | None, *, title: str = "", message: str = ""):
        self.report, self._title, self._message = report, title, message

    @property
    def score(self) -> float | None:
        return self.report["score"] if self.report else None

    @property
    def passed(self) -> bool:
        return bool(self.report) and all(ex["status"] == "passed" for ex in self.report["exercises"])

    def _repr_html_(self) -> str:
        if self.report is None:
            return card.message_html(self._title, self._message)
        return card.report_html(self.report)

    def __repr__(self) -> str:
        if self.report is None:
            return f"{self._title}\n{self._message}"
        return card.report_text(self.report)

    __str__ = __repr__


class Hint:
    def __init__(self, html: str, text: str):
        self._html, self._text = html, text

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return self._text

    __str__ = __repr__


def _exercise(ref: int | str):
    from grader import catalog

    try:
        return catalog.exercise(ref), None
    except catalog.CatalogError as e:
        return None, Result(None, title=f"check({ref!r})", message=str(e))


def _unwritable_report(ex, problems) -> dict:
    """The report of an exercise whose code uses values that only exist in the kernel (not graded)."""
    import os

    from grader import __version__, api, catalog
    from grader.notebook.submission import error_result
    from grader.report import Report

    values = [p for p in problems if p.value]
    sentences = [f"`{p.name}` {p.what}." for p in problems if not p.value]
    if values:
        them = "it" if len(values) == 1 else "them"
        sentences.append(
            f"Your code uses {', '.join(f'`{p.name}` ({p.what})' for p in values)}: "
            f"{'a value' if len(values) == 1 else 'values'} computed in this notebook, which check() cannot use: it "
            f"grades your functions from their source code, as in a .py file. Create {them} inside your function, or "
            f"pass {them} in as {'an argument' if len(values) == 1 else 'arguments'}.")
    message = " ".join(sentences)
    course = catalog.course()
    report = Report(submission=SUBMISSION_ID, score=0.0, max_score=ex.max_score, seed=course.seed,
                    secret_seed=course.secret_seed_env in os.environ, grader_version=__version__, duration_s=0.0,
                    exercises=[error_result(ex, message)], environment=api.environment())
    return report.model_dump(mode="json")


def _record(report: dict) -> None:
    from grader import state

    st = state.load()
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for ex in report["exercises"]:
        state.record_result(st, ex["slug"], ex["score"], ex["max_score"], ex["status"], when)
    state.save(st)


def check(exercise: int | str, frame: types.FrameType, functions: dict) -> Result:
    """Grade exercise `exercise` with the functions the notebook defines (or those in `functions`)."""
    from grader.notebook import assemble, helper, live
    from grader.notebook.submission import stub
    from grader.notebook.where import relabel_exercise

    ex, error = _exercise(exercise)
    if ex is None:
        return error  # type: ignore[return-value]
    unknown = sorted(set(functions) - set(ex.functions))
    if unknown:
        wanted = ", ".join(f"{f}=..." for f in ex.functions)
        return Result(None, title=f"check({ex.id})", message=f"Exercise {ex.id} grades {wanted}; "
                      f"{', '.join(unknown)} is not one of its functions.")
    header = f'"""{ex.file} for exercise {ex.id}, built by check({ex.id}) from the notebook\'s definitions."""'
    try:
        built = live.student_source(ex.functions, live.caller_namespace(frame), live.caller_history(frame),
                                    functions, stub(ex), header)
    except assemble.UnwritableAll as e:
        report = _unwritable_report(ex, e.problems)
    else:
        folder = Path(tempfile.mkdtemp(prefix="grader-check-"))
        try:
            (folder / ex.slug).mkdir()
            (folder / ex.slug / ex.file).write_text(built.source, encoding="utf-8")
            report = helper.shared().grade(folder, [ex.id], seed=None, timeout=ex.limits.exercise_seconds + 60)
        except helper.HelperError as e:
            return Result(None, title=f"check({ex.id}): the grader failed (not your fault)", message=str(e))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        report["submission"] = SUBMISSION_ID
        for result in report["exercises"]:  # name the notebook's cells, not the file built from them
            relabel_exercise(result, ex.file, built, label=lambda n: f"cell In [{n}]")
    _record(report)
    return Result(report)


def hint(exercise: int | str, level: int | None = None) -> Hint | Result:
    """The next hint for the exercise (the earlier ones folded), as `grade hint` gives it."""
    from grader import state

    ex, error = _exercise(exercise)
    if ex is None:
        return error  # type: ignore[return-value]
    st = state.load()
    k = level if level is not None else min(state.hints_seen(st, ex.slug) + 1, len(ex.hints))
    if not 1 <= k <= len(ex.hints):
        return Result(None, title=f"hint({ex.id}, level={level})",
                      message=f"Exercise {ex.id} has {len(ex.hints)} hints: level must be 1 to {len(ex.hints)}.")
    state.record_hint(st, ex.slug, k)
    state.save(st)
    again = ("That is the last hint. The exercise's README has the full task." if k == len(ex.hints)
             else f"Run hint({ex.id}) again for the next hint.")
    return Hint(card.hints_html(ex.id, ex.title, list(ex.hints), k, again),
                card.hints_text(ex.id, ex.title, list(ex.hints), k, again))
