"""Golden scenarios: a submission, its intent (scenario.toml) and its whole expected report."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from grader import catalog

SCENARIOS = Path(__file__).parent / "scenarios"
SEED = 1234
VOLATILE_REPORT = ("duration_s", "grader_version", "environment")
VOLATILE_EXERCISE = ("duration_s", "student_s")


@dataclass(frozen=True)
class Scenario:
    path: Path
    exercise: int
    description: str
    fails: tuple[str, ...]
    status: str | None
    mistake: str | None
    shipped: str | None  # "solutions" or "exercises": grade the repository's own files, not a copy

    @property
    def id(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"

    @property
    def submission(self) -> Path:
        if self.shipped == "solutions":
            return catalog.solutions_dir()
        if self.shipped == "exercises":
            return catalog.exercises_dir()
        return self.path / "submission"

    @property
    def expected_path(self) -> Path:
        return self.path / "expected.json"


def load(path: Path) -> Scenario:
    meta = tomllib.loads((path / "scenario.toml").read_text())
    unknown = set(meta) - {"exercise", "description", "fails", "status", "mistake", "submission"}
    assert not unknown, f"{path}/scenario.toml: unknown keys {sorted(unknown)}"
    scenario = Scenario(path, int(meta["exercise"]), meta.get("description", ""), tuple(meta.get("fails", ())),
                    meta.get("status"), meta.get("mistake"), meta.get("submission"))
    assert scenario.shipped in (None, "solutions", "exercises"), f"{path}: submission must be solutions or exercises"
    assert (scenario.shipped is None) == (path / "submission").is_dir(), f"{path}: a submission/ folder or a shipped one"
    return scenario


def discover() -> list[Scenario]:
    return [load(p.parent) for p in sorted(SCENARIOS.glob("*/*/scenario.toml"))]


def normalise(report: dict) -> dict:
    """The report without what may change between identical runs (durations, versions, machine)."""
    out = {k: v for k, v in report.items() if k not in VOLATILE_REPORT}
    out["exercises"] = [{k: v for k, v in ex.items() if k not in VOLATILE_EXERCISE} for ex in report["exercises"]]
    return out


def dump(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
