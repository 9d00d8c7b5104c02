"""Assignment and Grade Services: the score outbox and its sender.

One thread posts due scores from `lti_scores`, oldest first. An access token (client
credentials with a `private_key_jwt` assertion signed by the tool's key) is kept per
platform until a minute before it expires, and dropped when the platform answers 401.
Network errors, 429 and 5xx are retried with backoff (1 s, 2 s, 4 s ... at most 10 min)
until the score lands; any other 4xx is not retried: the score is `failed` with the
platform's message, shown in the instructor's view with a button to send it again.

A link's line item is the one its launches name (deep linking asked the platform to make
it). When they name none but give the context's line items service, the sender finds the
link's line item there, or makes it once (looked up before it is made, kept on the link).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from grader.lti import outbound
from grader.lti.keys import ToolKeys
from grader.lti.store import LtiStore
from grader.service.logs import event

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
TOKEN_MARGIN_S = 60.0
MAX_DELAY_S = 600.0


class _Retry(Exception):
    """Try again later (network, 429, 5xx, an expired token)."""


class _Fail(Exception):
    """The platform refused for good (another 4xx)."""


def iso_ms(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def scores_url(lineitem: str) -> str:
    parts = urlsplit(lineitem)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/scores", parts.query, ""))


def comment(report: dict) -> str:
    """One line for the gradebook: the score and, per exercise, how many checks passed."""
    parts = []
    for ex in report.get("exercises", []):
        checks = ex.get("checks", [])
        passed = sum(c.get("status") == "passed" for c in checks)
        parts.append(f"{ex.get('slug')}: {ex.get('status', '').replace('_', ' ')}, {passed}/{len(checks)} checks")
    return f"tinyml-grader: {report['score']:g}/{report['max_score']:g} — " + "; ".join(parts)


def _json_list(r: httpx.Response) -> list[dict]:
    try:
        found = r.json()
    except ValueError:
        return []
    return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []


def _platform_message(r: httpx.Response) -> str:
    text = r.text.strip().replace("\n", " ")
    return f"the platform answered {r.status_code}: {text[:300] or r.reason_phrase}"


class ScoreSender:
    def __init__(self, lti: LtiStore, keys: ToolKeys, allow_private: bool, base_delay_s: float = 1.0):
        self.lti, self.keys, self.allow_private, self.base_delay_s = lti, keys, allow_private, base_delay_s
        self._tokens: dict[tuple[int, str], tuple[str, float]] = {}  # (platform id, scope) -> (token, expires at)
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="lti-scores", daemon=True)
        self._client = httpx.Client()
        self.token_requests = 0

    # ------------------------------------------------------------ life (with the service)

    def start(self) -> None:
        made = self.lti.enqueue()  # graded by a previous run but not yet in the outbox
        if made:
            event("lti_scores_recovered", count=made)
        self._thread.start()

    def changed(self, sid: str, status: str) -> None:
        if status == "done" and self.lti.submission_link(sid) is not None:
            self.lti.enqueue(sid)
            self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        self._client.close()

    # ------------------------------------------------------------ the loop

    def _loop(self) -> None:
        while not self._stopping:
            try:
                for row in self.lti.due_scores(time.time()):
                    if self._stopping:
                        break
                    self._send(row)
                next_at = self.lti.next_score_at()
            except Exception as e:  # a busy database: try again shortly
                event("lti_score_loop_error", error=repr(e))
                next_at = None
            wait = 1.0 if next_at is None else min(1.0, max(0.01, next_at - time.time()))
            self._wake.wait(wait)
            self._wake.clear()

    def _send(self, row: dict) -> None:
        sid, tries = row["submission_id"], row["attempts"] + 1
        try:
            self._post(sid)
        except _Retry as e:
            delay = min(MAX_DELAY_S, self.base_delay_s * 2 ** (tries - 1))
            self.lti.score_tried(sid, "pending", tries, time.time() + delay, str(e))
            event("lti_score", id=sid, attempt=tries, outcome="retry", error=str(e), retry_in=delay)
            return
        except _Fail as e:
            self.lti.score_tried(sid, "failed", tries, time.time(), str(e))
            event("lti_score", id=sid, attempt=tries, outcome="failed", error=str(e))
            return
        self.lti.score_tried(sid, "sent", tries, time.time(), None)
        event("lti_score", id=sid, attempt=tries, outcome="sent")

    def _post(self, sid: str) -> None:
        sub = self.lti.submission_link(sid)
        link = self.lti.get_link(sub["link_id"]) if sub else None
        platform = self.lti.platform(link["platform_id"]) if link else None
        if platform is None:
            raise _Fail("the link's platform is no longer registered")
        lineitem = link["lineitem"] or self._find_or_make_lineitem(platform, link)
        graded = self.lti.store.get(sid)
        report = json.loads(graded["report"])
        body = {"userId": sub["user_sub"], "scoreGiven": report["score"], "scoreMaximum": report["max_score"],
                "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                "timestamp": iso_ms(graded["graded_at"]), "comment": comment(report)}
        token = self._token(platform, SCORE_SCOPE)
        r = self._call(platform, "POST", scores_url(lineitem), content=json.dumps(body),
                       headers={"Authorization": f"Bearer {token}",
                                "Content-Type": "application/vnd.ims.lis.v1.score+json"})
        self._check(r, platform)

    def _find_or_make_lineitem(self, platform: dict, link: dict) -> str:
        """The link's line item when its launches named none: the one the tool made before (it is looked up
        first, so a crash between making and keeping it makes no second one), or a new one."""
        from grader.lti.deeplink import content_item

        if not link["lineitems"]:
            raise _Fail("the platform gave this link no line item and no line items service: turn on grades "
                        "(AGS) for the tool in the LMS, or add the exercise again through the tool's deep linking")
        wanted = {**content_item("", link["exercise"])["lineItem"], "resourceLinkId": link["resource_link_id"]}
        token = self._token(platform, LINEITEM_SCOPE)
        auth = {"Authorization": f"Bearer {token}"}
        sep = "&" if "?" in link["lineitems"] else "?"
        query = urlencode({"resource_link_id": link["resource_link_id"], "resource_id": wanted["resourceId"]})
        r = self._call(platform, "GET", f"{link['lineitems']}{sep}{query}",
                       headers={**auth, "Accept": "application/vnd.ims.lis.v2.lineitemcontainer+json"})
        self._check(r, platform)
        found = [i for i in _json_list(r) if i.get("resourceLinkId") == link["resource_link_id"] and i.get("id")]
        if found:
            url = found[0]["id"]
        else:
            r = self._call(platform, "POST", link["lineitems"], content=json.dumps(wanted),
                           headers={**auth, "Content-Type": "application/vnd.ims.lis.v2.lineitem+json"})
            self._check(r, platform)
            try:
                url = r.json()["id"]
            except (ValueError, KeyError, TypeError):
                raise _Retry("the platform made a line item but did not answer its id") from None
            event("lti_lineitem_made", link=link["id"], lineitem=url)
        self.lti.set_lineitem(link["id"], url)
        return url

    def _call(self, platform: dict, method: str, url: str, **kw) -> httpx.Response:
        try:
            return outbound.request(self._client, method, url, self.allow_private, **kw)
        except outbound.PlatformUnreachable as e:
            raise _Retry(str(e)) from None

    def _check(self, r: httpx.Response, platform: dict | None = None) -> None:
        if r.status_code == 401 and platform is not None:
            self._tokens = {k: v for k, v in self._tokens.items() if k[0] != platform["id"]}
            raise _Retry("the platform refused the access token (401); a new one is asked for")
        if r.status_code == 429 or r.status_code >= 500:
            raise _Retry(_platform_message(r))
        if not 200 <= r.status_code < 300:
            raise _Fail(_platform_message(r))

    def _token(self, platform: dict, scope: str) -> str:
        held = self._tokens.get((platform["id"], scope))
        if held and held[1] - TOKEN_MARGIN_S > time.time():
            return held[0]
        now = int(time.time())
        assertion = self.keys.sign({"iss": platform["client_id"], "sub": platform["client_id"],
                                    "aud": platform["token_url"], "iat": now, "exp": now + 300,
                                    "jti": uuid.uuid4().hex})
        self.token_requests += 1
        r = self._call(platform, "POST", platform["token_url"], data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion, "scope": scope})
        self._check(r)
        try:
            doc = r.json()
            token, expires_in = doc["access_token"], float(doc.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise _Retry("the platform's token endpoint answered no access_token") from None
        self._tokens[(platform["id"], scope)] = (token, time.time() + expires_in)
        return token
