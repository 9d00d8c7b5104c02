"""Renderers: pure functions of the report."""

from __future__ import annotations

import json
import textwrap

from grader.report import Report

MARKS = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "-"}


def _pts(x: float) -> str:
    return f"{x:g}"


def to_json(report: Report) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False)


def to_text(report: Report, *, show_output: bool = True) -> str:
    lines: list[str] = []
    for ex in report.exercises:
        lines.append(f"Exercise {ex.id} · {ex.title}   {_pts(ex.score)}/{_pts(ex.max_score)}   [{ex.status.replace('_', ' ')}]")
        if ex.status in ("missing", "error", "not_attempted"):
            lines += textwrap.wrap(ex.message, 88, initial_indent="  ", subsequent_indent="  ")
        else:
            for c in ex.checks:
                lines.append(f"  {MARKS[c.status]} {c.name}   {_pts(c.score)}/{_pts(c.max_score)}")
                if c.status != "passed":
                    label = f"known mistake ({c.mistake.replace('_', ' ')}): " if c.mistake else ""
                    lines += textwrap.wrap(label + c.message, 86, initial_indent="      ", subsequent_indent="      ")
                    if c.hint:
                        lines += textwrap.wrap("idea to revisit: " + c.hint, 86, initial_indent="      ",
                                               subsequent_indent="      ")
        if show_output and ex.output.strip():
            lines.append("  your code printed:")
            lines += ["    | " + line for line in ex.output.strip().splitlines()[:20]]
        lines.append("")
    for note in report.environment.notes if report.environment else []:
        lines.append(f"note: {note}")
    if report.grader_errors:
        lines.append(f"The grader itself failed on {report.grader_errors} check(s); details are on stderr.")
    lines.append(f"Total: {_pts(report.score)}/{_pts(report.max_score)}   ({report.duration_s:.1f} s, seed {report.seed})")
    return "\n".join(lines)
