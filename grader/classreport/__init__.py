"""The class report: what a class got wrong, how each check behaves, and who may have copied.

One view, three doors: `grade report` (grader/cli/report.py), `grade serve`'s
`GET /v1/report` (one key's submissions) and the LTI instructor view (one link's) all call

    data = build(reports, roster=..., anonymise=..., sources=...)   # the class.json data
    html = render_html(data)                                          # the whole page, one file

`reports` are plain report dicts (the JSON report of ../shared/CONTRACTS.md); `sources`
(optional, for similarity) maps a submission id to `{exercise slug: source text}`.
`build` is pure Python (no NumPy); `render_html` draws the charts with matplotlib, so a
process that must stay light renders with `render_html_isolated` (a child process).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

from grader.classreport.stats import build_numbers

SCHEMA_VERSION = 1


def _labels(ids: list[str]) -> dict[str, str]:
    """Anonymous labels, in an order that does not follow the ids' alphabetical order."""
    ranked = sorted(ids, key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    width = max(3, len(str(len(ranked))))
    return {sid: f"student-{n:0{width}d}" for n, sid in enumerate(ranked, 1)}


def build(reports: list[dict], *, roster: dict[str, dict[str, str]] | None = None, anonymise: bool = False,
          sources: dict[str, dict[str, str]] | None = None, problems: list[str] | None = None,
          partial: bool = False, similarity: bool | None = None) -> dict:  # fmt: skip
    """The class.json data of `reports` (see ../shared/CONTRACTS.md, "The class report").

    `similarity` defaults to "when sources are given". `problems` (inputs left out) and
    `partial` (the batch is still running) are shown on the page.
    """
    ids = [r["submission"] for r in reports]
    data: dict = {"schema_version": SCHEMA_VERSION, **build_numbers(reports)}
    data["partial"] = bool(partial)
    data["problems"] = list(problems or [])
    roster = roster or {}
    data["roster"] = bool(roster)
    for s in data["students"]:
        entry = roster.get(s["submission"], {})
        s["name"] = "" if anonymise else entry.get("name", "")
        s["section"] = entry.get("section", "")
    if similarity or (similarity is None and sources is not None):
        from grader.classreport.similarity import analyse

        data.update(analyse(sources or {}, ids))
    if anonymise:
        data = anonymised(data, ids)
    data["anonymised"] = bool(anonymise)
    return data


def anonymised(data: dict, ids: list[str]) -> dict:
    """`data` with every submission id replaced by a label, wherever it appears (messages and code too)."""
    labels = _labels(ids)
    longest_first = sorted(ids, key=lambda s: (-len(s), s))

    def walk(x):
        if isinstance(x, str):
            if x in labels:
                return labels[x]
            return _replace(x, longest_first, labels)
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        return x

    out = walk(data)
    out["students"].sort(key=lambda s: s["submission"])
    # orders that followed the ids follow the labels instead: nothing of the ids' order is left
    for pair in out.get("similarity", []) + out.get("similarity_views", []):
        if pair["a"] > pair["b"]:
            pair["a"], pair["b"] = pair["b"], pair["a"]
            for f in pair.get("files", []):
                f["a"], f["b"] = f["b"], f["a"]
    for cluster in out.get("similarity_clusters", []):
        cluster["members"].sort()
    return out


def _replace(text: str, ids: list[str], labels: dict[str, str]) -> str:
    for sid in ids:  # plain replacement, longest id first: a leak is worse than an odd word
        if sid and sid in text:
            text = text.replace(sid, labels[sid])
    return text


def to_json(data: dict) -> str:
    """class.json: sorted keys, no dates, so the same reports give the same bytes."""
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def render_html(data: dict) -> str:
    """The whole page of `data` (one self-contained HTML file)."""
    from grader.classreport.view import render

    return render(data)


def render_html_isolated(data: dict, timeout: float = 120.0) -> str:
    """`render_html` in a child process: for the service, whose web process must not import matplotlib/NumPy."""
    done = subprocess.run([sys.executable, "-m", "grader.classreport.view"], input=to_json(data).encode(),
                          capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the class report could not be drawn: {done.stderr.decode(errors='replace')[-300:]}")
    return done.stdout.decode("utf-8")


__all__ = ["build", "render_html", "render_html_isolated", "to_json", "SCHEMA_VERSION"]
