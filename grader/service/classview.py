"""`GET /v1/report`: the class report (grader.classreport) of one key's graded submissions.

Each done submission is one student, named by its `external_id` (its id when it has none).
JSON by default; HTML with `?format=html` or `Accept: text/html`, drawn in a child process
so that this web process never imports matplotlib or NumPy.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse

from grader import classreport
from grader.service import submissions
from grader.service.errors import ApiError
from grader.service.store import Store


def key_reports(store: Store, key_name: str) -> tuple[list[dict], list[str]]:
    """The reports of the key's done submissions, oldest first, and their submission ids."""
    rows = store.all("SELECT id, external_id, report FROM submissions WHERE key_name = ? AND status = 'done' "
                     "AND report IS NOT NULL ORDER BY seq", (key_name,))
    reports, sids = [], []
    for row in rows:
        report = json.loads(row["report"])
        report["submission"] = row["external_id"] or row["id"]
        reports.append(report)
        sids.append(row["id"])
    return reports, sids


def key_sources(store: Store, reports: list[dict], sids: list[str]) -> dict[str, dict[str, str]]:
    from grader.classreport.load import student_files

    sources = {}
    with tempfile.TemporaryDirectory(prefix="grade-report-") as scratch:
        for n, (report, sid) in enumerate(zip(reports, sids)):
            folder = Path(scratch) / str(n)
            try:
                path = submissions.materialize(*store.payload(sid), folder / "in")
            except (OSError, TypeError, ValueError):
                continue
            sources[report["submission"]] = student_files(path, folder / "work")
    return sources


def build(store: Store, key_name: str, similarity: bool, anonymise: bool) -> dict:
    reports, sids = key_reports(store, key_name)
    sources = key_sources(store, reports, sids) if similarity and reports else None
    return classreport.build(reports, anonymise=anonymise, sources=sources, similarity=similarity)


async def respond(request: Request, store: Store, key_name: str, fmt: str | None, similarity: bool,
                  anonymise: bool):  # fmt: skip
    if fmt not in (None, "json", "html"):
        raise ApiError(422, "invalid", "format must be json or html")
    html = fmt == "html" or (fmt is None and "text/html" in request.headers.get("accept", ""))
    data = await run_in_threadpool(build, store, key_name, similarity, anonymise)
    if not html:
        return JSONResponse(data)
    return HTMLResponse(await run_in_threadpool(classreport.render_html_isolated, data))
