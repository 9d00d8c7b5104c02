"""The report: what a grading run produced, as pydantic models.

`schema_version`, the field names and the status words are a contract
(../shared/CONTRACTS.md); renderers are pure functions of these models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

CheckStatus = Literal["passed", "failed", "error", "skipped"]
ExerciseStatus = Literal["passed", "failed", "error", "missing", "not_attempted"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckResult(_Model):
    name: str = Field(description="what the check verifies, as the student reads it")
    id: str = Field(description="the part id in exercise.toml")
    status: CheckStatus
    score: float
    max_score: float
    message: str = Field("", description="feedback: what was expected and what the submission produced")
    hint: str = Field("", description="the idea to revisit, when the check did not pass")
    mistake: str | None = Field(None, description="the name of a known mistake the check recognised")


class ExerciseResult(_Model):
    id: int
    slug: str
    title: str
    status: ExerciseStatus
    score: float
    max_score: float
    message: str = Field("", description="what happened to the exercise as a whole (missing file, syntax error...)")
    output: str = Field("", description="what the student's code printed, truncated")
    duration_s: float = 0.0
    student_s: float = Field(0.0, description="of duration_s, the time the student's functions ran (as the runner measured it)")
    checks: list[CheckResult] = []


class Environment(_Model):
    """What ran the grading, so a report says when a part was missing or weaker."""

    platform: str
    python: str
    tensorflow: str | None = None
    notes: list[str] = Field([], description="parts that were unavailable or weaker on this machine")


class Report(_Model):
    schema_version: int = SCHEMA_VERSION
    submission: str
    score: float
    max_score: float
    seed: int
    secret_seed: bool = Field(False, description="hidden inputs were also keyed by the instructor's secret seed")
    grader_version: str
    duration_s: float
    exercises: list[ExerciseResult]
    environment: Environment | None = None
    grader_errors: int = Field(0, description="checks on which the grader itself failed (exit code 3); details on stderr")


def round_score(x: float) -> float:
    return round(float(x), 4)


def error_report(submission_id: str, exercises, seed: int, grader_version: str, message: str,
                 duration_s: float = 0.0) -> Report:  # fmt: skip
    """The report of a submission the grader could not grade: every exercise `error`, 0 points.

    `exercises` are catalog exercises (anything with id, slug, title, max_score and parts).
    """
    results = [
        ExerciseResult(
            id=ex.id, slug=ex.slug, title=ex.title, status="error", score=0.0, max_score=ex.max_score,
            message=message,
            checks=[CheckResult(name=p.title, id=p.id, status="error", score=0.0, max_score=p.points, message=message)
                    for p in ex.parts],
        )
        for ex in exercises
    ]  # fmt: skip
    return Report(submission=submission_id, score=0.0, max_score=round_score(sum(ex.max_score for ex in results)),
                  seed=seed, grader_version=grader_version, duration_s=round(duration_s, 3), exercises=results)
