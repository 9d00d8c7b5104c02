"""The six-student class of tests/test_classreport*.py, whose numbers are worked out by hand there.

Exercise 1 (checks A, B: 2.5 points each) and exercise 3 (checks C, D: 5 points each).
"""

from __future__ import annotations

import json
from pathlib import Path

P, F, E, S = "passed", "failed", "error", "skipped"
CHECKS = {1: [("A", "The course example gives 715.6667", 2.5), ("B", "Random vectors agree with Keras", 2.5)],
          3: [("C", "The two-layer output by hand", 5.0), ("D", "Any stack of Dense layers", 5.0)]}
TITLES = {1: ("ex1_loss", "Write the loss"), 3: ("ex3_two_layer", "Compute the two-layer output by hand")}

# submission -> exercise -> (exercise status, [(check status, mistake, message)])
CLASS = {
    "s1": {1: (P, [(P, None, ""), (P, None, "")]), 3: (P, [(P, None, ""), (P, None, "")])},
    "s2": {1: (F, [(P, None, ""), (F, "sum_instead_of_mean", "Your loss for s2 is 6x too large: did you sum?")]),
           3: (F, [(P, None, ""), (F, None, "expected 3.0 got 4.5")])},
    "s3": {1: (P, [(P, None, ""), (P, None, "")]),
           3: (F, [(F, "bias_forgotten", "The bias was left out (s3)."), (F, None, "expected 3.0 got 7.25")])},
    "s4": {1: (F, [(P, None, ""), (F, "sum_instead_of_mean", "Your loss for s4 is 3x too large: did you sum?")]),
           3: (P, [(P, None, ""), (P, None, "")])},
    "s5": {1: ("not_attempted", [(S, None, ""), (S, None, "")]),
           3: (F, [(P, None, ""), (E, None, "Your code raised ZeroDivisionError")])},
    "s6": {1: (P, [(P, None, ""), (P, None, "")]), 3: ("missing", [(S, None, ""), (S, None, "")])},
}


def report(sid: str, spec: dict | None = None) -> dict:
    spec = spec or CLASS[sid]
    exercises = []
    for ex_id, (status, results) in spec.items():
        checks = []
        for (cid, title, points), (cstatus, mistake, message) in zip(CHECKS[ex_id], results):
            checks.append({"name": title, "id": cid, "status": cstatus, "score": points if cstatus == P else 0.0,
                           "max_score": points, "message": message, "hint": "", "mistake": mistake})
        slug, title = TITLES[ex_id]
        exercises.append({"id": ex_id, "slug": slug, "title": title, "status": status,
                          "score": sum(c["score"] for c in checks), "max_score": sum(p for *_, p in CHECKS[ex_id]),
                          "message": "", "output": "", "duration_s": 0.1, "student_s": 0.0, "checks": checks})
    return {"schema_version": 1, "submission": sid, "score": sum(e["score"] for e in exercises),
            "max_score": sum(e["max_score"] for e in exercises), "seed": 1234, "secret_seed": False,
            "grader_version": "0.1.0", "duration_s": 1.0, "exercises": exercises, "environment": None,
            "grader_errors": 0}


def reports() -> list[dict]:
    return [report(sid) for sid in CLASS]


def write_jsonl(path: Path, items: list[dict] | None = None) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in (items or reports())), encoding="utf-8")
    return path
