"""The HTTP API of `grade serve` (../shared/CONTRACTS.md, "The assessment service").

Thin views over `Service`: authenticate, check, store, answer. No handler grades;
`?wait=S` re-reads the submission's row until it is finished or S seconds pass.
"""

from __future__ import annotations

import math
import time
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from grader import __version__, catalog
from grader.service import callbacks, classview, errors, keys, submissions
from grader.service.config import Config
from grader.service.errors import ApiError
from grader.service.limits import BodyLimit, check_queue
from grader.service.logs import event
from grader.service.metrics import RequestMetrics
from grader.service.service import Service, render

ERRORS = {code: {"description": word, "content": {"application/json": {"example": errors.body(word, "what to fix")}}}
          for code, word in ((400, "malformed_json"), (401, "unauthorized"), (404, "not_found"), (409, "conflict"),
                             (413, "too_large"), (422, "invalid"), (429, "rate_limited"), (503, "queue_full"))}


def _seconds(value: object) -> float:
    """`?wait=S`: one message for every wrong S ("abc", "nan", "inf", 0, 500), not pydantic's word for each."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = math.nan
    if not 0 < seconds <= 120:  # false for NaN too
        raise PydanticCustomError("wait", "must be a number of seconds, 0 < S ≤ 120")
    return seconds


Wait = Annotated[float | None, BeforeValidator(_seconds),
                 Query(gt=0, le=120, description="hold the answer until finished, at most S seconds")]


def caller(request: Request) -> keys.Caller:
    """The key of the request (`Authorization: Bearer <key>`); 401 without a known one."""
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    store = request.app.state.service.store
    who = keys.authenticate(store, presented.strip()) if scheme.lower() == "bearer" else None
    if who is None:
        raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <key>' with a key from `grade keys create`"
                       if scheme.lower() != "bearer" else "this key is unknown or revoked", {"WWW-Authenticate": "Bearer"})
    request.state.key = who.name
    return who


Caller = Annotated[keys.Caller, Depends(caller)]


def create_app(config: Config, service: Service | None = None) -> FastAPI:
    service = service or Service(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start()
        try:
            yield
        finally:
            await run_in_threadpool(service.stop)

    app = FastAPI(title="tinyml-grader", version=__version__, lifespan=lifespan,
                  description="Autograded TinyML exercises as a service: post a submission, get its report.")
    app.state.service = service
    errors.install(app, authenticate=caller)
    app.add_middleware(BodyLimit, limit=config.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=service.metrics, log=event)
    store = service.store
    if config.public_url:
        from grader.lti.routes import install

        install(app, service, config.public_url)

    def owned(sid: str, who: keys.Caller):
        row = store.get(sid, who.name)
        if row is None:
            raise ApiError(404, "not_found", f"no submission '{sid}' for this key")
        return row

    async def answer(row, status: int, wait: float | None) -> JSONResponse:
        if wait:
            row = await service.waiters.until_finished(store, row["id"], wait) or row
        return JSONResponse(render(row), status_code=status)

    @app.post("/v1/submissions", status_code=201, responses=ERRORS, tags=["submissions"])
    async def create_submission(body: submissions.SubmissionIn, who: Caller, wait: Wait = None):
        """Create a submission (201), or return the existing one for a repeated `external_id` (200)."""
        received = time.time()
        exercises = submissions.check_fields(body, config.metadata_bytes)
        rhash = submissions.request_hash(body, exercises)
        if body.external_id is not None:
            old = store.by_external_id(who.name, body.external_id)
            if old is not None:
                return await answer(submissions.same(old, rhash), 200, wait)
        service.limiter.take(who.name, who.rate_per_minute)
        check_queue(store.counts()["queued"], config.queue_max, service.dispatcher.slots)
        if body.callback_url is not None:
            await run_in_threadpool(_check_callback, body.callback_url, config.allow_private_callbacks)
        row, created = await run_in_threadpool(submissions.create, service.store, who.name, body, exercises, rhash, received)
        if created:
            service.dispatcher.wake()
            event("submission_created", id=row["id"], key=who.name, exercises=exercises)
        return await answer(row, 201 if created else 200, wait)

    @app.get("/v1/submissions/{sid}", responses=ERRORS, tags=["submissions"])
    async def get_submission(sid: str, who: Caller, wait: Wait = None):
        """The submission object (404 if unknown or another key's)."""
        return await answer(owned(sid, who), 200, wait)

    @app.get("/v1/submissions", responses=ERRORS, tags=["submissions"])
    def list_submissions(who: Caller, external_id: str | None = None,
                         status: Literal["queued", "running", "done", "failed", "cancelled"] | None = None,
                         limit: Annotated[int, Query(ge=1, le=100)] = 20):
        """This key's submissions, newest first."""
        return {"submissions": [render(r) for r in store.list(who.name, external_id, status, limit)]}

    @app.delete("/v1/submissions/{sid}", responses=ERRORS, tags=["submissions"])
    def cancel_submission(sid: str, who: Caller):
        """Cancel a queued submission (409 once it runs or has finished)."""
        owned(sid, who)
        changed, status = store.cancel(sid, who.name)
        if status != "cancelled":
            raise ApiError(409, "not_cancellable", f"submission '{sid}' is {status}; only a queued one can be cancelled")
        if changed:
            service.changed(sid, "cancelled")
        return render(owned(sid, who))

    @app.get("/v1/exercises", responses=ERRORS, tags=["catalog"])
    def list_exercises(who: Caller):
        """The catalog: id, slug, title, file, functions, max_score, parts."""
        return {"exercises": [
            {"id": ex.id, "slug": ex.slug, "title": ex.title, "file": ex.file, "functions": list(ex.functions),
             "max_score": ex.max_score, "parts": [{"id": p.id, "title": p.title, "points": p.points} for p in ex.parts]}
            for ex in catalog.exercises()]}

    @app.get("/v1/report", responses=ERRORS, tags=["report"])
    async def class_report(request: Request, who: Caller, format: str | None = None, similarity: bool = False,
                           anonymise: bool = False):
        """The class report of this key's graded submissions: JSON, or the page with ?format=html."""
        return await classview.respond(request, store, who.name, format, similarity, anonymise)

    @app.get("/v1/health", tags=["service"])
    def health():
        """Queue depth, running jobs, grading slots. No key needed."""
        return {"status": "ok", **store.counts(), "workers": service.dispatcher.slots}

    @app.get("/metrics", tags=["service"], response_class=Response, responses={401: ERRORS[401]})
    def metrics(request: Request):
        """Prometheus text format. Needs a key unless the service runs with `--metrics-public`."""
        if not config.metrics_public:
            caller(request)
        return Response(service.metrics.text(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app


def _check_callback(url: str, allow_private: bool) -> None:
    try:
        _, host, port = callbacks.check_url(url)
        if not allow_private:
            callbacks.resolve(host, port, allow_private)
    except callbacks.CallbackRefused as e:
        raise ApiError(422, "callback_refused", str(e)) from None


