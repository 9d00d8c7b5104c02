"""What `check()` and `hint()` show: an HTML card for Jupyter and Colab, plain text elsewhere.

Pure functions of the JSON report (and of the exercise's hints). Every string that comes
from a report (which quotes the student's code and output) is escaped; styles are inline,
since Colab keeps no stylesheet.
"""

from __future__ import annotations

from html import escape

COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "error": "#8250df", "not_attempted": "#9a6700",
           "missing": "#57606a"}
MARKS = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "–"}
WORDS = {"passed": "Correct", "failed": "Not yet", "error": "Your code raised", "not_attempted": "Not attempted",
         "missing": "Missing"}
FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:14px;line-height:1.45"


def _pts(x: float) -> str:
    return f"{x:g}"


def hidden_inputs_line(report: dict) -> str:
    if report.get("secret_seed"):
        return "These checks used the instructor's hidden inputs."
    return (f"These checks used the course's inputs (seed {report.get('seed')}). Graded runs use other hidden "
            "inputs, so code that only fits these examples will not pass them.")


def _check_rows(ex: dict, detailed: bool) -> str:
    rows = []
    for c in ex.get("checks", []):
        colour = COLOURS["passed" if c["status"] == "passed" else "error" if c["status"] == "error" else "failed"]
        detail = ""
        if detailed and c["status"] != "passed":
            lines = [f"<div>{escape(c.get('message', ''))}</div>"] if c.get("message") else []
            if c.get("mistake"):
                lines.append(f"<div><b>Known mistake:</b> {escape(c['mistake'].replace('_', ' '))}</div>")
            if c.get("hint"):
                lines.append(f"<div><b>Idea to revisit:</b> {escape(c['hint'])}</div>")
            detail = f'<div style="margin:2px 0 0 0;color:#24292f">{"".join(lines)}</div>'
        rows.append(
            f'<tr style="border-top:1px solid #d0d7de;vertical-align:top">'
            f'<td style="color:{colour};font-weight:bold;padding:4px 8px;text-align:center">{MARKS.get(c["status"], "?")}</td>'
            f'<td style="padding:4px 8px;text-align:left"><div>{escape(c["name"])}</div>{detail}</td>'
            f'<td style="padding:4px 8px;text-align:right;white-space:nowrap">{_pts(c["score"])} / {_pts(c["max_score"])}</td></tr>')
    return "".join(rows)


def _exercise_html(ex: dict) -> str:
    colour = COLOURS.get(ex["status"], "#57606a")
    detailed = ex["status"] in ("passed", "failed")
    parts = [
        f'<div style="display:flex;justify-content:space-between;align-items:baseline;gap:12px">'
        f'<div style="font-size:16px"><b>Exercise {escape(str(ex["id"]))} · {escape(ex["title"])}</b></div>'
        f'<div><span style="background:{colour};color:white;border-radius:10px;padding:1px 10px;font-weight:bold">'
        f'{escape(WORDS.get(ex["status"], ex["status"]))}</span> '
        f'<b style="font-size:16px">{_pts(ex["score"])} / {_pts(ex["max_score"])}</b></div></div>',
    ]
    if ex.get("message"):
        parts.append(f'<div style="margin:6px 0">{escape(ex["message"])}</div>')
    parts.append(f'<table style="border-collapse:collapse;width:100%;margin:4px 0">{_check_rows(ex, detailed)}</table>')
    if ex.get("output", "").strip():
        parts.append('<details style="margin:4px 0"><summary>What your code printed</summary>'
                     f'<pre style="white-space:pre-wrap;margin:4px 0;font-size:12px">{escape(ex["output"])}</pre></details>')
    return (f'<div style="border:1px solid #d0d7de;border-left:6px solid {colour};border-radius:6px;'
            f'padding:8px 12px;margin:6px 0">{"".join(parts)}</div>')


def report_html(report: dict) -> str:
    body = [_exercise_html(ex) for ex in report.get("exercises", [])]
    notes = (report.get("environment") or {}).get("notes") or []
    small = "color:#57606a;font-size:12px;margin:2px 0"
    body += [f'<div style="{small}">Note: {escape(n)}</div>' for n in notes]
    if report.get("grader_errors"):
        body.append(f'<div style="{small};color:#cf222e">The grader itself failed on {report["grader_errors"]} '
                    "check(s): not your fault. Please tell your instructor.</div>")
    body.append(f'<div style="{small}">{escape(hidden_inputs_line(report))}</div>')
    return f'<div class="tinyml-grader-card" style="{FONT};max-width:880px">{"".join(body)}</div>'


def report_text(report: dict) -> str:
    from grader.render.text import to_text
    from grader.report import Report

    return to_text(Report.model_validate(report)) + "\n" + hidden_inputs_line(report)


def message_html(title: str, message: str, status: str = "error") -> str:
    colour = COLOURS.get(status, "#57606a")
    return (f'<div class="tinyml-grader-card" style="{FONT};max-width:880px;border:1px solid #d0d7de;'
            f'border-left:6px solid {colour};border-radius:6px;padding:8px 12px;margin:6px 0">'
            f'<b>{escape(title)}</b><div style="margin-top:4px">{escape(message)}</div></div>')


def hints_html(exercise_id: int, title: str, hints: list[str], level: int, again: str) -> str:
    """Hint `level` open, the earlier ones folded, and how to get the next one."""
    folded = "".join(
        f'<details style="margin:2px 0"><summary>Hint {k} of {len(hints)}</summary>'
        f'<div style="margin:4px 0 4px 16px">{escape(hints[k - 1])}</div></details>' for k in range(1, level))
    current = (f'<div style="margin:6px 0"><b>Hint {level} of {len(hints)}</b>'
               f'<div style="margin:4px 0 0 16px">{escape(hints[level - 1])}</div></div>')
    return (f'<div class="tinyml-grader-card" style="{FONT};max-width:880px;border:1px solid #d0d7de;'
            f'border-left:6px solid #0969da;border-radius:6px;padding:8px 12px;margin:6px 0">'
            f'<div style="font-size:16px"><b>Exercise {exercise_id} · {escape(title)}</b></div>{folded}{current}'
            f'<div style="color:#57606a;font-size:12px">{escape(again)}</div></div>')


def hints_text(exercise_id: int, title: str, hints: list[str], level: int, again: str) -> str:
    return f"Exercise {exercise_id} · {title} — hint {level} of {len(hints)}\n\n{hints[level - 1]}\n\n{again}"
