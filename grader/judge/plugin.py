"""The pytest plugin the judge passes to `pytest.main`: fixtures in, outcomes out.

Checks are plain pytest functions (`check_<part id>`). This one object gives
them their fixtures and turns each outcome into a `CheckResult`: an assert
message or a `Mistake` is feedback; a `StudentError` from the runner is the
student's exception, timeout or crash; anything else is the grader's own fault.
"""

from __future__ import annotations

import sys
import traceback
import zlib
from dataclasses import dataclass, field

import numpy as np
import pytest

from grader.catalog import Exercise
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


@dataclass(eq=False)  # pytest keeps plugins in sets
class CheckCollector:
    exercise: Exercise
    session: RunnerSession
    seeds: Seeds
    reference_cache: dict
    results: dict[str, CheckResult] = field(default_factory=dict)
    not_attempted: set[str] = field(default_factory=set)
    internal_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    submission_cache: dict = field(default_factory=dict)

    # -- fixtures ------------------------------------------------------------

    @pytest.fixture
    def student(self) -> StudentProxy:
        return StudentProxy(self.session, self.exercise.functions, self.submission_cache)

    @pytest.fixture
    def rng(self, request) -> np.random.Generator:
        return np.random.default_rng(self.seeds.sequence(self.exercise.slug, request.node.name))

    @pytest.fixture
    def tol(self) -> dict:
        return dict(self.exercise.tolerances)

    @pytest.fixture(name="exercise")
    def exercise_fixture(self) -> Exercise:
        return self.exercise

    @pytest.fixture
    def note(self):
        """`note(text)` records in the report's environment that a part was missing or weaker here."""
        return self.notes.append

    @pytest.fixture(name="reference_cache")
    def reference_cache_fixture(self) -> dict:
        return self.reference_cache

    # -- outcomes --------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        yield
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
            return result.model_copy(update={**fail, "status": "error", "message": exc.feedback})
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
