"""The pytest plugin the judge passes to `pytest.main`, once per submission: fixtures in, outcomes out.

Checks are plain pytest functions (`check_<part id>`), one module per exercise. One
`CheckCollector` per exercise turns each outcome into a `CheckResult`: an assert
message or a `Mistake` is feedback; a `StudentError` from the runner is the student's
exception, timeout or crash; anything else is the grader's own fault. `ChecksPlugin`
gives each check module the fixtures of its own exercise and tells the judge when an
exercise's checks begin and end, so one pytest session serves all of a submission.
"""

from __future__ import annotations

import sys
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from grader.catalog import Exercise
from grader.judge import python_ideas
from grader.judge.feedback import Mistake
from grader.judge.values import MalformedValue, Returned
from grader.report import CheckResult
from grader.runner import protocol
from grader.runner.client import (
    LimitExceeded,
    MissingFunction,
    NotAttempted,
    RunnerSession,
    StudentError,
    StudentTimeout,
)
from grader.runner.launch import helpers_from


class StudentProxy:
    """The `student` fixture: calls into the runner, returns validated `Returned` values."""

    def __init__(self, session: RunnerSession, functions: list[str], cache: dict):
        self._session = session
        self._functions = functions
        self.cache = cache  # what this submission produced, shared by the checks of this exercise

    def call(self, function: str, *args, **kwargs) -> Returned:
        return self._wrap(self._session.call(function, *args, **kwargs))

    def probe(self, name: str, *args, what: str | None = None, needs: list[str] | None = None, **kwargs) -> Returned:
        """Run a probe; `needs` are the student functions it calls (default: all of the exercise's)."""
        for f in self._functions if needs is None else needs:
            if f not in self._session.functions:
                raise MissingFunction(f"Your {self._session.file_name} has no function `{f}`: "
                                      "keep the function names and signatures of the stub.")
        return self._wrap(self._session.probe(name, *args, what=what or f"{name}()", **kwargs))

    @property
    def functions(self) -> list[str]:
        return list(self._session.functions)

    @staticmethod
    def _wrap(wire: object) -> Returned:
        try:
            return Returned.from_wire(wire)
        except MalformedValue as e:
            raise AssertionError(f"Your code returned something that cannot be graded ({e}).") from None


@dataclass
class Seeds:
    """What keys the hidden inputs: the public seed and, optionally, the instructor's secret."""

    seed: int
    secret: int | None = None

    def sequence(self, *words: str) -> np.random.SeedSequence:
        return np.random.SeedSequence([self.seed, self.secret or 0, *(zlib.crc32(w.encode()) for w in words)])

    def runtime_seed(self, slug: str) -> int:
        """A seed for the runner's own randomness (weight init), unrelated to the hidden inputs."""
        return int(self.sequence("runner", slug).generate_state(1)[0] % 2**31)


@dataclass(eq=False)
class CheckCollector:
    """One exercise's checks: what they are given and what came out of them."""

    exercise: Exercise
    session: RunnerSession
    seeds: Seeds
    reference_cache: dict
    results: dict[str, CheckResult] = field(default_factory=dict)
    not_attempted: set[str] = field(default_factory=set)
    internal_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    submission_cache: dict = field(default_factory=dict)

    def record(self, item, call) -> None:
        """Turn a check's setup or call outcome into its part's `CheckResult`."""
        if call.when == "teardown" or (call.when == "setup" and call.excinfo is None):
            return
        part_id = item.name.removeprefix("check_")
        try:
            part = self.exercise.part(part_id)
        except KeyError:
            return  # a helper test the catalog does not grade; `grade validate` reports it
        result = CheckResult(name=part.title, id=part.id, status="passed", score=part.points,
                             max_score=part.points)
        if call.excinfo is not None:
            result = self._failure(result, part.hint, call.excinfo.value, item)
        self.results[part_id] = result

    def _failure(self, result: CheckResult, hint: str, exc: BaseException, item) -> CheckResult:
        fail = {"score": 0.0, "hint": hint}
        if isinstance(exc, Mistake):
            return result.model_copy(update={**fail, "status": "failed", "message": exc.message, "mistake": exc.name})
        if isinstance(exc, AssertionError):
            return result.model_copy(update={**fail, "status": "failed", "message": str(exc) or "This check failed."})
        if isinstance(exc, NotAttempted):
            self.not_attempted.add(result.id)
            return result.model_copy(update={**fail, "status": "failed", "message": exc.feedback})
        if isinstance(exc, (MissingFunction, StudentTimeout, LimitExceeded)):
            return result.model_copy(update={**fail, "status": "failed", "message": exc.feedback})
        if isinstance(exc, StudentError):
            fitting = python_ideas.idea(getattr(exc, "exc_type", None))  # a NameError's idea is Python's, not maths
            return result.model_copy(update={**fail, "status": "error", "message": exc.feedback,
                                              "hint": fitting or hint})
        if isinstance(exc, protocol.ProtocolError):
            return result.model_copy(update={**fail, "status": "failed",
                                              "message": f"Your code sent back something that cannot be graded: {exc}."})
        if isinstance(exc, pytest.skip.Exception):
            # A part of the grader's machine is missing (gcc...): say so, and flag the run, so a
            # score that could not be fully computed is never mistaken for a complete one.
            self.internal_errors.append(f"{self.exercise.slug}::{item.name} skipped: {exc.msg}")
            self.notes.append(f"exercise {self.exercise.id}: {exc.msg}")
            return result.model_copy(update={**fail, "status": "skipped", "hint": "",
                                              "message": f"Not checked on this machine (not your fault): {exc.msg}."})
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.internal_errors.append(f"{self.exercise.slug}::{item.name}: {detail}")
        print(f"grader: internal error in {self.exercise.slug}::{item.name}\n{detail}", file=sys.stderr)
        return result.model_copy(update={**fail, "status": "error",
                                          "message": "The grader itself failed on this check (not your fault): "
                                                     "please tell your instructor.", "hint": ""})


@dataclass(eq=False)  # pytest keeps plugins in sets
class ChecksPlugin:
    """Routes each check module's fixtures and outcomes to its exercise's `CheckCollector`.

    Before an exercise's first check `begin(collector)` is called; when it returns False
    (the runner never got ready) the exercise's checks are not run. After its last check
    (module fixtures torn down) `end(collector)` is called.
    """

    collectors: dict[Path, CheckCollector]
    begin: Callable[[CheckCollector], bool]
    end: Callable[[CheckCollector], None]
    _current: CheckCollector | None = None
    _runnable: bool = False

    def _of(self, node) -> CheckCollector:
        return self.collectors[Path(node.path)]

    # -- fixtures ------------------------------------------------------------

    @pytest.fixture
    def student(self, request) -> StudentProxy:
        c = self._of(request.node)
        return StudentProxy(c.session, c.exercise.functions, c.submission_cache)

    @pytest.fixture
    def rng(self, request) -> np.random.Generator:
        c = self._of(request.node)
        return np.random.default_rng(c.seeds.sequence(c.exercise.slug, request.node.name))

    @pytest.fixture
    def tol(self, request) -> dict:
        return dict(self._of(request.node).exercise.tolerances)

    @pytest.fixture(name="exercise")
    def exercise_fixture(self, request) -> Exercise:
        return self._of(request.node).exercise

    @pytest.fixture
    def note(self, request):
        """`note(text)` records in the report's environment that a part was missing or weaker here."""
        return self._of(request.node).notes.append

    @pytest.fixture(name="reference_cache")
    def reference_cache_fixture(self, request) -> dict:
        return self._of(request.node).reference_cache

    # -- the run -----------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        c = self._of(item)
        if c is not self._current:
            self._current, self._runnable = c, self.begin(c)
        with helpers_from(c.session.launcher):  # the checks' trusted helpers fork from the runners' zygote
            yield
        if nextitem is None or self._of(nextitem) is not c:
            self._current = None
            if self._runnable:
                self.end(c)

    @pytest.hookimpl(tryfirst=True, specname="pytest_runtest_protocol")
    def pytest_runtest_protocol_unready(self, item, nextitem):  # pytest takes only pytest_* names
        return None if self._runnable else True  # True: this item's protocol is done, nothing of it runs

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        yield
        self._of(item).record(item, call)
