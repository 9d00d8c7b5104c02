"""The LTI pages (templates in grader/web/templates/lti/) and the tool's state in one running service.

Views gather data and hand it to a template; the routes are in `routes`, the protocol in
`launch`, `deeplink`, `register` and `ags`. Every page carries `Content-Security-Policy:
frame-ancestors` for the platform's origins (it is shown in the LMS's iframe) and
`Cache-Control: no-store`.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from grader import catalog
from grader.lti import launch
from grader.lti.ags import ScoreSender
from grader.lti.keys import ToolKeys
from grader.lti.launch import CLAIM, Refused
from grader.lti.store import LtiStore
from grader.service.logs import event
from grader.web.pages import render

COOKIE = "lti_session"
STATE_COOKIE = "lti_state_"  # + the state: the login of this browser (one cookie per login)


def class_report_html(reports: list[dict]) -> str | None:
    """The class report page of one link's latest graded reports (grader.classreport), or None without any.

    Drawn in a child process (`render_html_isolated`): the web process never imports matplotlib or NumPy.
    """
    from grader import classreport

    if not reports:
        return None
    return classreport.render_html_isolated(classreport.build(reports))


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if ts else "–"


LMS_WORDS = {"pending": "sending…", "sent": "sent", "failed": "refused by the LMS"}


def _lms(row: dict) -> str:
    if row["status"] != "done":
        return "nothing to send" if row["status"] in ("failed", "cancelled") else "after grading"
    return LMS_WORDS.get(row["score_state"] or "pending", row["score_state"])


class LtiApp:
    def __init__(self, service, public_url: str):
        self.service = service
        self.public_url = public_url.rstrip("/")
        # NORMAL: a commit survives a crash of the process; a power cut may forget a state, a nonce or a
        # session (launch again), never a submission (committed by the API's path, FULL)
        self.lti = LtiStore(service.background)
        self.keys = ToolKeys(service.config.data)
        self.keys.jwks()  # the key is made on first start
        self.allow_private = service.config.allow_private_callbacks
        self.https = self.public_url.startswith("https://")
        self.sender = ScoreSender(LtiStore(service.background), self.keys, self.allow_private,
                                  service.config.lti_retry_base_s)
        service.extras.append(self.sender)

    # ------------------------------------------------------------ answers

    def frame_ancestors(self, platform: dict | None, extra: str | None = None) -> str:
        platforms = [platform] if platform else self.lti.platforms()
        origins = {o for p in platforms for o in (_origin(p["issuer"]), _origin(p["auth_url"])) if o}
        if _origin(extra):
            origins.add(_origin(extra))
        return "frame-ancestors 'self' " + " ".join(sorted(origins))

    def page(self, template: str, code: int = 200, platform: dict | None = None, session: dict | None = None,
             cookie: str | None = None, **ctx) -> HTMLResponse:
        cfg = None
        if session is not None:
            cfg = {"session": session["id"], "check": f"{self.public_url}/lti/session",
                   "storage": session["storage_target"], "open": f"{self.public_url}/lti/open?code=" + self.keys.sign(
                       {"sid": session["id"], "aud": "open", "exp": int(time.time()) + 300})}
            platform = platform or self.lti.platform(session["platform_id"])
        html = render(f"lti/{template}", cfg=cfg, **ctx)
        extra = session["claims"].get("return_url") if session else None
        response = HTMLResponse(html, status_code=code, headers={
            "Content-Security-Policy": self.frame_ancestors(platform, extra), "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})
        if cookie is not None:
            self.set_cookie(response, COOKIE, cookie)
        return response

    def set_cookie(self, response: Response, name: str, value: str, max_age: int = 8 * 3600) -> None:
        if self.https:
            response.set_cookie(name, value, max_age=max_age, path="/lti", httponly=True, secure=True, samesite="none")
        else:
            response.set_cookie(name, value, max_age=max_age, path="/lti", httponly=True, samesite=None)

    def refused(self, e: Refused) -> HTMLResponse:
        event("lti_refused", status=e.status, reason=e.message)
        return self.page("error.html", e.status, title="This launch cannot continue", message=e.message)

    def session(self, request: Request, form=None, kinds: tuple[str, ...] = ()) -> dict:
        # the form's own session first: the cookie holds the browser's latest launch, maybe another tab's
        sid = (form.get("session") if form else None) or request.headers.get("x-lti-session") \
            or request.cookies.get(COOKIE)
        found = self.lti.session(sid)
        if found is None or (kinds and found["kind"] not in kinds):
            raise Refused(401, "your session with the tool has ended or is missing: open the activity again from the LMS")
        return found

    # ------------------------------------------------------------ pages of a session

    def session_page(self, session: dict, cookie: str | None = None) -> HTMLResponse:
        if session["kind"] == "deeplink":
            exercises = catalog.exercises()
            return self.page("deeplink.html", session=session, cookie=cookie, title="Add an exercise",
                             header=session["claims"].get("context"), context=session["claims"].get("context"),
                             exercises=exercises, total=sum(ex.max_score for ex in exercises),
                             action=f"{self.public_url}/lti/deeplink")
        link = self.lti.get_link(session["link_id"])
        if session["kind"] == "instructor":
            return self.instructor_page(session, link, cookie)
        return self.student_page(session, link, cookie)

    def student_page(self, session: dict, link: dict, cookie: str | None) -> HTMLResponse:
        chosen = catalog.select(None if link["exercise"] == "all" else [int(link["exercise"])])
        exercises = [{"id": ex.id, "title": ex.title, "file": ex.file, "functions": ex.functions,
                      "readme": (ex.directory / "README.md").read_text(encoding="utf-8"),
                      "stub_url": f"{self.public_url}/lti/stub/{ex.id}"} for ex in chosen]
        attempts = [{"when": _when(a["created_at"]), "status": a["status"], "score": a["score"],
                     "max_score": a["max_score"], "lms": _lms(a),
                     "url": f"{self.public_url}/lti/status/{a['submission_id']}"}
                    for a in self.lti.attempts(link["id"], session["user_sub"])]
        return self.page("student.html", session=session, cookie=cookie, title=link["title"] or "Exercise",
                         header=link["context_title"], exercises=exercises, attempts=attempts,
                         user=session["user_name"], submit=f"{self.public_url}/lti/submit")

    def instructor_page(self, session: dict, link: dict, cookie: str | None) -> HTMLResponse:
        rows = self.lti.attempts(link["id"])
        by_user: dict[str, list[dict]] = {}
        for r in rows:
            by_user.setdefault(r["user_sub"], []).append(r)
        students = []
        for sub, mine in sorted(by_user.items(), key=lambda kv: (kv[1][0]["user_name"] or kv[0]).lower()):
            graded = [r for r in mine if r["status"] == "done"]
            latest = graded[0] if graded else mine[0]
            refused = next((r for r in graded if r["score_state"] == "failed"), None)
            shown = refused or latest
            students.append({"name": latest["user_name"] or sub, "latest": latest["score"],
                             "max_score": latest["max_score"], "best": max((r["score"] for r in graded), default=None),
                             "attempts": len(mine), "lms": _lms(shown),
                             "lms_class": "bad" if refused else "ok" if shown["score_state"] == "sent" else "muted",
                             "lms_error": refused["score_error"] if refused else None,
                             "resend": refused["submission_id"] if refused else None,
                             "latest_url": f"{self.public_url}/lti/status/{latest['submission_id']}"})
        return self.page("instructor.html", session=session, cookie=cookie, title="Class view",
                         header=link["context_title"], link_title=link["title"] or f"Exercise {link['exercise']}",
                         students=students, resend=f"{self.public_url}/lti/resend",
                         class_report=f"{self.public_url}/lti/class-report" if students else None)

    def link_reports(self, link_id: int) -> list[dict]:
        """Each student's latest graded report on the link, named by the student (the class report's input)."""
        latest: dict[str, dict] = {}
        for r in self.lti.attempts(link_id):  # newest first
            if r["status"] == "done" and r["user_sub"] not in latest:
                latest[r["user_sub"]] = {**json.loads(r["report"]), "submission": r["user_name"] or r["user_sub"]}
        return list(latest.values())

    def launched(self, found: launch.Launch) -> HTMLResponse:
        claims, platform = found.claims, found.platform
        context = (claims.get(CLAIM + "context") or {}).get("title")
        name = claims.get("name") or claims.get("given_name") or claims.get("preferred_username")
        kept = {"context": context, "return_url": (claims.get(CLAIM + "launch_presentation") or {}).get("return_url")}
        if found.message_type == "LtiDeepLinkingRequest":
            if not found.staff:
                raise Refused(403, "only instructors can add exercises to a course")
            settings = claims.get(launch.DL_CLAIM + "deep_linking_settings") or {}
            if not settings.get("deep_link_return_url"):
                raise Refused(400, "the deep-linking request has no deep_link_return_url")
            kept.update(deep_link_return_url=settings["deep_link_return_url"], data=settings.get("data"),
                        deployment_id=found.deployment_id)
            sid = self.lti.new_session(platform["id"], "deeplink", None, claims["sub"], name, kept, found.storage_target)
        else:
            resource = claims.get(CLAIM + "resource_link") or {}
            exercise = str((claims.get(CLAIM + "custom") or {}).get("exercise", "")).strip()
            if not resource.get("id"):
                raise Refused(400, "the launch has no resource link")
            if exercise != "all":
                try:
                    exercise = str(catalog.exercise(exercise).id)
                except catalog.CatalogError:
                    raise Refused(400, f"this link's custom parameter exercise={exercise!r} is not 1-5 or 'all': "
                                       "the instructor adds the exercise again through the tool") from None
            ags = claims.get(launch.AGS_CLAIM) or {}
            link = self.lti.link(platform["id"], found.deployment_id, resource["id"], exercise,
                                 resource.get("title"), ags.get("lineitem"), context, ags.get("lineitems"))
            kind = "instructor" if found.staff else "student"
            sid = self.lti.new_session(platform["id"], kind, link["id"], claims["sub"], name, kept,
                                       found.storage_target)
        event("lti_launch", platform=platform["issuer"], kind=found.message_type, staff=found.staff)
        return self.session_page(self.lti.session(sid), cookie=sid)
