"""The class report page: class.json data -> one self-contained HTML file.

Charts are drawn by matplotlib's SVG backend and inlined; matplotlib is imported here
only, lazily, with a fixed hash salt and no date, so the same data gives the same page.
`python -m grader.classreport.view` reads the data on stdin and writes the page on stdout
(how the service renders without importing matplotlib into its web process).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import urllib.parse
from functools import cache

from markupsafe import Markup

from grader.web.pages import render as render_template

_COLOURS = {"passed": "#2e7d32", "failed": "#c62828", "error": "#ef6c00", "missing": "#757575",
            "not_attempted": "#bdbdbd"}


@cache
def _figure_class():
    import matplotlib

    matplotlib.use("svg", force=True)
    matplotlib.rcParams.update({"svg.hashsalt": "tinyml-grader-class-report", "svg.fonttype": "none",
                                "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    from matplotlib.figure import Figure

    return Figure


def _svg(fig, label: str) -> dict:
    """A chart for the template: matplotlib's SVG (without its XML prolog) and what it shows, in words."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    text = buf.getvalue()
    return {"svg": Markup(text[text.index("<svg"):]), "label": label}


def _bars(ax, histogram: list, colour: str = "#1565c0") -> None:
    los = [h[0] for h in histogram]
    widths = [h[1] - h[0] for h in histogram]
    ax.bar(los, [h[2] for h in histogram], width=widths, align="edge", color=colour, edgecolor="white")
    ax.set_xlim(histogram[0][0], histogram[-1][1])
    ax.yaxis.get_major_locator().set_params(integer=True)


def total_chart(data: dict) -> dict:
    Figure = _figure_class()
    fig = Figure(figsize=(6, 2.4))
    ax = fig.subplots()
    _bars(ax, data["total"]["histogram"])
    ax.set_xlabel(f"total score (out of {data['max_score']:g})")
    ax.set_ylabel("submissions")
    return _svg(fig, "histogram of the total scores")


def exercise_charts(data: dict) -> dict:
    Figure = _figure_class()
    exercises = data["exercises"]
    fig = Figure(figsize=(1.9 * max(1, len(exercises)), 2.0))
    axes = fig.subplots(1, max(1, len(exercises)), squeeze=False)[0]
    for ax, ex in zip(axes, exercises):
        _bars(ax, ex["histogram"], "#6a1b9a")
        ax.set_title(f"{ex['id']} · {ex['title']}"[:28], fontsize=8)
        ax.set_xlabel(f"score / {ex['max_score']:g}")
    return _svg(fig, "histograms of each exercise's scores")


def status_chart(data: dict) -> dict:
    Figure = _figure_class()
    exercises = data["exercises"]
    fig = Figure(figsize=(6, 0.45 * len(exercises) + 0.9))
    ax = fig.subplots()
    names = [f"{ex['id']} · {ex['title']}"[:34] for ex in exercises][::-1]
    left = [0] * len(exercises)
    for status, colour in _COLOURS.items():
        counts = [ex["status_counts"][status] for ex in exercises][::-1]
        ax.barh(names, counts, left=left, color=colour, label=status.replace("_", " "))
        left = [a + b for a, b in zip(left, counts)]
    ax.set_xlabel("submissions")
    ax.legend(ncols=5, fontsize=7, loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False)
    return _svg(fig, "status of each exercise across the class")


def students_csv(data: dict) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    roster = data.get("roster")
    head = ["submission"] + (["name", "section"] if roster else []) + ["score", "max_score"]
    for ex in data["exercises"]:
        head += [f"ex{ex['id']}_score", f"ex{ex['id']}_status"]
    w.writerow(head)
    for s in data["students"]:
        row = [s["submission"]] + ([s["name"], s["section"]] if roster else []) + [s["score"], s["max_score"]]
        for e in s["exercises"]:
            row += ["" if e["score"] is None else e["score"], e["status"] or ""]
        w.writerow(row)
    return out.getvalue()


def _fmt(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def render(data: dict) -> str:
    charts = {"total": total_chart(data), "exercises": exercise_charts(data), "status": status_chart(data)} \
        if data["exercises"] else {}
    csv_text = students_csv(data)
    return render_template(
        "classreport/report.html", d=data, charts=charts, fmt=_fmt, pct=_pct,
        csv_href="data:text/csv;charset=utf-8," + urllib.parse.quote(csv_text),
        titles={ex["id"]: ex["title"] for ex in data["exercises"]},
    )


def main() -> int:
    data = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    sys.stdout.buffer.write(render(data).encode("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
