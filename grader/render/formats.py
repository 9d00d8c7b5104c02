"""LMS output formats: pure functions of `Report`s.

- `jsonl`: one contract report per line.
- `csv`: a gradebook, one row per submission, a column per exercise and a total.
- `gradescope`: the `results.json` of Gradescope's autograder specification.
- `junit`: JUnit XML, a testcase per check.

Nothing here reads files, the clock or the environment: the same reports give
the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from typing import Literal

from grader.report import CheckResult, ExerciseResult, Report

Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]
Feedback = Literal["full", "hint", "none"]

FORMATS = ("jsonl", "csv", "gradescope", "junit")


def _num(x: float) -> str:
    """7.5 -> '7.5', 10.0 -> '10': how a gradebook cell should read."""
    return f"{x:.4f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def jsonl(reports: Iterable[Report]) -> str:
    return "".join(r.model_dump_json() + "\n" for r in reports)


def _exercise_columns(reports: Sequence[Report]) -> list[tuple[int, str]]:
    seen: dict[int, str] = {}
    for r in reports:
        for ex in r.exercises:
            seen.setdefault(ex.id, ex.slug)
    return sorted(seen.items())


def _cell_text(text: str) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula; a submission id must not."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_csv(reports: Sequence[Report]) -> str:
    """One row per submission: `submission`, per exercise its score and its status, `total`.

    The first column identifies the student (the submission id: name the
    submissions by LMS login or student number and map that column on import).
    Each exercise's score column (`ex1_loss`) is a number, so Canvas and Moodle
    import it as a grade; beside it, `ex1_loss status` says why a score is 0
    (passed, failed, error, missing, not_attempted): leave it unmapped on import.
    """
    columns = _exercise_columns(reports)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["submission", *(h for _, slug in columns for h in (slug, f"{slug} status")), "total"])
    for r in reports:
        by_id = {ex.id: ex for ex in r.exercises}
        cells = [c for i, _ in columns for c in ((_num(by_id[i].score), by_id[i].status) if i in by_id else ("", ""))]
        writer.writerow([_cell_text(r.submission), *cells, _num(r.score)])
    return buf.getvalue()


def _check_feedback(check: CheckResult, feedback: Feedback) -> str:
    if check.status == "passed" or feedback == "none":
        return ""
    lines = []
    if feedback == "full" and check.message:
        lines.append(check.message)
    if check.hint:
        lines.append(f"Hint: {check.hint}")
    return "\n".join(lines)


def _exercise_line(ex: ExerciseResult) -> str:
    line = f"Exercise {ex.id} ({ex.title}): {_num(ex.score)}/{_num(ex.max_score)}, {ex.status.replace('_', ' ')}"
    return f"{line}. {ex.message}" if ex.message else line


def gradescope(report: Report, visibility: Visibility = "visible", feedback: Feedback = "full") -> dict:
    """Gradescope's results.json for one submission.

    `visibility` applies to every test (Gradescope's own word: `hidden`,
    `after_due_date`, `after_published` or `visible`). `feedback` says how
    much of a check's message a student reads: `full` (message and hint),
    `hint` (only the idea to revisit: use it when messages would reveal the
    hidden inputs) or `none` (pass/fail and points only). Instructors see the
    same text; the full report is in `extra_data`.
    """
    tests = []
    for ex in report.exercises:
        if not ex.checks:
            tests.append(
                {
                    "name": f"Exercise {ex.id}: {ex.title}",
                    "number": f"{ex.id}",
                    "score": ex.score,
                    "max_score": ex.max_score,
                    "status": "passed" if ex.status == "passed" else "failed",
                    "output": ex.message if feedback != "none" else "",
                    "visibility": visibility,
                    "tags": [ex.slug],
                }
            )
            continue
        for n, check in enumerate(ex.checks, start=1):
            tests.append(
                {
                    "name": f"Exercise {ex.id} · {check.name}",
                    "number": f"{ex.id}.{n}",
                    "score": check.score,
                    "max_score": check.max_score,
                    "status": "passed" if check.status == "passed" else "failed",
                    "output": _check_feedback(check, feedback),
                    "visibility": visibility,
                    "tags": [ex.slug],
                }
            )
    output = "\n".join(_exercise_line(ex) for ex in report.exercises)
    return {
        "score": report.score,
        "execution_time": round(report.duration_s, 1),
        "output": output,
        "output_format": "text",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "extra_data": {"report": report.model_dump(mode="json")},
        "tests": tests,
    }


def gradescope_json(report: Report, visibility: Visibility = "visible", feedback: Feedback = "full") -> str:
    return json.dumps(gradescope(report, visibility, feedback), indent=2, ensure_ascii=False) + "\n"


def _junit_case(parent: ET.Element, classname: str, name: str, status: str, message: str, time: float) -> None:
    case = ET.SubElement(parent, "testcase", classname=classname, name=name, time=f"{time:.3f}")
    first_line = message.splitlines()[0] if message else ""
    if status == "failed":
        ET.SubElement(case, "failure", message=first_line, type="failed").text = message
    elif status == "error":
        ET.SubElement(case, "error", message=first_line, type="error").text = message
    elif status == "skipped":
        ET.SubElement(case, "skipped", message=first_line)


_EXERCISE_CASE_STATUS = {"passed": "passed", "failed": "failed", "error": "error", "missing": "failed", "not_attempted": "failed"}


def junit(reports: Iterable[Report]) -> str:
    """JUnit XML: a testsuite per submission and exercise, a testcase per check.

    An exercise without checks (a missing file, a syntax error) is one testcase
    named after the exercise, so CI dashboards still show it.
    """
    root = ET.Element("testsuites", name="tinyml-grader")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for r in reports:
        for ex in r.exercises:
            suite = ET.SubElement(root, "testsuite", name=f"{r.submission}/{ex.slug}")
            ET.SubElement(ET.SubElement(suite, "properties"), "property", name="score", value=f"{_num(ex.score)}/{_num(ex.max_score)}")
            classname = f"{r.submission}.{ex.slug}"
            if ex.checks:
                per_check = ex.duration_s / len(ex.checks)
                cases = [(c.name, c.status, c.message, per_check) for c in ex.checks]
            else:
                cases = [(ex.title, _EXERCISE_CASE_STATUS[ex.status], ex.message or ex.status, ex.duration_s)]
            counts = {"tests": len(cases), "failures": 0, "errors": 0, "skipped": 0}
            for name, status, message, time in cases:
                _junit_case(suite, classname, name, status, message, time)
                key = {"failed": "failures", "error": "errors", "skipped": "skipped"}.get(status)
                if key:
                    counts[key] += 1
            for k, v in counts.items():
                suite.set(k, str(v))
                totals[k] += v
            suite.set("time", f"{ex.duration_s:.3f}")
            total_time += ex.duration_s
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
