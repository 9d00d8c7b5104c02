"""Same submission, same seeds: the same report except durations. Other seeds: other inputs."""

from __future__ import annotations

from pathlib import Path

from grader import api
from tests.scenario import normalise

SUM = Path(__file__).parent / "scenarios" / "ex1_loss" / "sum_instead_of_mean" / "submission"


def report(seed, monkeypatch=None):
    return normalise(api.grade(SUM, [1], seed=seed, submission_id="s").model_dump(mode="json"))


def messages(r):
    return [c["message"] for c in r["exercises"][0]["checks"]]


def test_same_seed_same_report_other_seed_other_inputs():
    first, again, other = report(7), report(7), report(8)
    assert first == again
    assert messages(first) != messages(other)
    assert first["exercises"][0]["score"] == other["exercises"][0]["score"]


def test_the_secret_seed_changes_the_inputs_and_is_not_revealed(monkeypatch):
    public = report(7)
    monkeypatch.setenv("GRADER_SECRET_SEED", "987654321")
    secret = report(7)
    assert secret["secret_seed"] is True and public["secret_seed"] is False
    assert secret["seed"] == 7
    assert messages(secret) != messages(public)
    assert "987654321" not in str(secret)
