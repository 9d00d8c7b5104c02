"""The result card: one report as HTML (notebooks, the LTI status page) or as text.

Pure functions of the JSON report (and of an exercise's hints), rendered from
`templates/card.html`; one renderer for every door that shows a verdict. Every string
from a report (which quotes the student's code and output) is escaped by the template.
"""

from __future__ import annotations

from grader.web.pages import render

COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "error": "#8250df", "not_attempted": "#9a6700",
           "missing": "#57606a"}
MARKS = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "–"}
WORDS = {"passed": "Correct", "failed": "Not yet", "error": "Your code raised", "not_attempted": "Not attempted",
         "missing": "Missing"}
FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:14px;line-height:1.45"
_STYLE = {"colours": COLOURS, "marks": MARKS, "words": WORDS, "font": FONT}


def hidden_inputs_line(report: dict) -> str:
    if report.get("secret_seed"):
        return "These checks used the instructor's hidden inputs."
    return (f"These checks used the course's inputs (seed {report.get('seed')}). Graded runs use other hidden "
            "inputs, so code that only fits these examples will not pass them.")


def report_html(report: dict) -> str:
    notes = (report.get("environment") or {}).get("notes") or []
    return render("card.html", report=report, notes=notes, inputs_line=hidden_inputs_line(report), c=_STYLE)


def report_text(report: dict) -> str:
    from grader.render.text import to_text
    from grader.report import Report

    return to_text(Report.model_validate(report)) + "\n" + hidden_inputs_line(report)


def message_html(title: str, message: str, status: str = "error") -> str:
    return render("message_card.html", title=title, message=message, colour=COLOURS.get(status, "#57606a"), c=_STYLE)


def hints_html(exercise_id: int, title: str, hints: list[str], level: int, again: str) -> str:
    """Hint `level` open, the earlier ones folded, and how to get the next one."""
    return render("hints_card.html", exercise_id=exercise_id, title=title, hints=hints, level=level, again=again,
                  c=_STYLE)


def hints_text(exercise_id: int, title: str, hints: list[str], level: int, again: str) -> str:
    return f"Exercise {exercise_id} · {title} — hint {level} of {len(hints)}\n\n{hints[level - 1]}\n\n{again}"
