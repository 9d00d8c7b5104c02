"""The `/lti` routes: thin handlers over `LtiApp` (grader/lti/views.py) and the protocol modules.

`install(app, service, public_url)` adds them to the service's app (`grade serve --public-url`);
the score sender starts and stops with the service.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import jwt
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from markupsafe import Markup

from grader import catalog
from grader.lti import deeplink, launch, register, submit
from grader.lti.launch import Refused
from grader.lti.views import COOKIE, STATE_COOKIE, LtiApp, _lms, _origin, class_report_html
from grader.service.logs import event
from grader.web.card import report_html


def install(app, service, public_url: str) -> LtiApp:
    """Add the `/lti` routes to the service's app; the score sender starts and stops with the service."""
    tool = LtiApp(service, public_url)
    router = APIRouter(prefix="/lti", include_in_schema=False)
    pub = tool.public_url

    async def params(request: Request) -> dict:
        found = dict(request.query_params)
        if request.method == "POST":
            found.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
        return found

    @router.api_route("/login", methods=["GET", "POST"])
    async def login(request: Request):
        try:
            given = await params(request)
            url, state = await run_in_threadpool(launch.login, tool.lti, given, pub)
        except Refused as e:
            return tool.refused(e)
        if given.get("lti_storage_target"):
            platform = tool.lti.find_platform(given["iss"], given.get("client_id"))[0]
            response = tool.page("storage.html", platform=platform, title="Starting", method="get",
                                 action=url.split("?")[0], fields=dict(_query(url)),
                                 storage={"target": given["lti_storage_target"], "origin": _origin(platform["auth_url"]),
                                          "key": f"state_{state}", "value": state, "read": False})
        else:
            response = RedirectResponse(url, status_code=302)
        tool.set_cookie(response, STATE_COOKIE + state, state, max_age=600)  # one per login: several tabs at once
        return response

    @router.post("/launch")
    async def do_launch(request: Request):
        form = await request.form()
        id_token, state = form.get("id_token"), form.get("state")
        try:
            cookie = request.cookies.get(STATE_COOKIE + str(state or ""))
            if not cookie:
                row = launch.peek_state(tool.lti, state)
                if row["storage_target"] and "storage_state" not in form:
                    platform = tool.lti.platform(row["platform_id"])
                    return tool.page("storage.html", platform=platform, title="Starting", method="post",
                                     action=f"{pub}/lti/launch", fields={"id_token": id_token, "state": state},
                                     storage={"target": row["storage_target"], "origin": _origin(platform["auth_url"]),
                                              "key": f"state_{state}", "read": True})
                # "" is the platform storage not answering: as without a cookie, the state in the database decides
                if form.get("storage_state") and form.get("storage_state") != state:
                    raise Refused(403, "the launch's state is not the one the LMS kept for this browser")
            found = await run_in_threadpool(launch.validate, tool.lti, id_token, state, tool.allow_private)
            response = await run_in_threadpool(tool.launched, found)
            if cookie:
                response.delete_cookie(STATE_COOKIE + state, path="/lti")
            return response
        except Refused as e:
            return tool.refused(e)

    @router.get("/jwks")
    def jwks():
        return JSONResponse(tool.keys.jwks(), headers={"Cache-Control": "max-age=300"})

    @router.get("/register")
    async def dynamic_registration(request: Request):
        try:
            return await run_in_threadpool(register.dynamic, tool, dict(request.query_params))
        except Refused as e:
            return tool.refused(e)

    @router.get("/session")
    def session_check(request: Request):
        return JSONResponse({"cookie": tool.lti.session(request.cookies.get(COOKIE)) is not None},
                            headers={"Cache-Control": "no-store"})

    @router.get("/open")
    def open_window(code: str = ""):
        try:
            sid = str(tool.keys.verify(code, "open").get("sid", ""))
            session = tool.lti.session(sid)
            if session is None:
                raise Refused(401, "this session has ended: open the activity again from the LMS")
        except jwt.PyJWTError:
            return tool.refused(Refused(403, "this link has expired: open the activity again from the LMS"))
        except Refused as e:
            return tool.refused(e)
        response = RedirectResponse(f"{pub}/lti/page", status_code=303)
        tool.set_cookie(response, COOKIE, sid)
        return response

    @router.get("/page")
    def current_page(request: Request):
        try:
            return tool.session_page(tool.session(request))
        except Refused as e:
            return tool.refused(e)

    @router.post("/deeplink")
    async def deep_link(request: Request):
        form = await request.form()
        try:
            session = tool.session(request, form, ("deeplink",))
            return tool.page("autopost.html", session=session, **deeplink.response(tool, session, form.get("exercise")))
        except Refused as e:
            return tool.refused(e)

    @router.post("/submit")
    async def upload(request: Request):
        form = await request.form()
        try:
            session = tool.session(request, form, ("student", "instructor"))
            link = tool.lti.get_link(session["link_id"])
            upload = form.get("file")
            data = await upload.read() if upload is not None and not isinstance(upload, str) else None
            body = submit.body_of(link["exercise"], getattr(upload, "filename", None), data, form.get("source"))
            sid = await run_in_threadpool(submit.queue, service, session["platform_id"], session["user_sub"], body,
                                          submit.metadata(link, session["user_sub"]))
            tool.lti.add_submission(sid, link["id"], session["user_sub"], session["user_name"])
        except Refused as e:
            return tool.refused(e)
        event("lti_submission", id=sid, link=link["id"])
        return RedirectResponse(f"{pub}/lti/status/{sid}", status_code=303)

    @router.get("/status/{sid}")
    def status(sid: str):
        # The submission id (a uuid4: 122 random bits) is the capability: a cookie-less iframe can still follow it.
        row = service.store.get(sid)
        linked = tool.lti.submission_link(sid)
        if row is None or linked is None:
            return tool.refused(Refused(404, "there is no such submission"))
        link = tool.lti.get_link(linked["link_id"])
        report = json.loads(row["report"]) if row["status"] == "done" and row["report"] else None
        error = json.loads(row["error"])["message"] if row["status"] == "failed" and row["error"] else None
        attempt = next(a for a in tool.lti.attempts(link["id"], linked["user_sub"]) if a["submission_id"] == sid)
        return tool.page("status.html", platform=tool.lti.platform(link["platform_id"]),
                         title=link["title"] or "Your result", status=row["status"],
                         finished=row["status"] in ("done", "failed", "cancelled"), error=error,
                         card=Markup(report_html(report)) if report else None, lms=_lms(attempt))

    @router.get("/stub/{n}")
    def stub(n: int):
        try:
            ex = catalog.exercise(n)
        except catalog.CatalogError as e:
            return PlainTextResponse(str(e), status_code=404)
        return PlainTextResponse(ex.stub_path.read_text(encoding="utf-8"), media_type="text/x-python",
                                 headers={"Content-Disposition": f'attachment; filename="{ex.file}"'})

    @router.post("/class-report")
    async def class_report(request: Request):
        form = await request.form()
        try:
            session = tool.session(request, form, ("instructor",))
        except Refused as e:
            return tool.refused(e)
        try:
            html = await run_in_threadpool(class_report_html, tool.link_reports(session["link_id"]))
        except (RuntimeError, OSError) as e:
            return tool.refused(Refused(503, f"the class report could not be drawn: {e}"))
        if html is None:
            return tool.refused(Refused(404, "no class report: nothing graded on this link yet"))
        return HTMLResponse(html, headers={"Content-Security-Policy": tool.frame_ancestors(
            tool.lti.platform(session["platform_id"])), "Cache-Control": "no-store"})

    @router.post("/resend")
    async def resend(request: Request):
        form = await request.form()
        try:
            session = tool.session(request, form, ("instructor",))
            if tool.lti.resend(str(form.get("submission", "")), session["link_id"]):
                tool.sender.wake()
            return tool.instructor_page(session, tool.lti.get_link(session["link_id"]), None)
        except Refused as e:
            return tool.refused(e)

    app.include_router(router)
    app.state.lti = tool
    return tool


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)
