"""The deep-linking response (LTI Deep Linking 2.0): one `ltiResourceLink` for the chosen exercise.

The JWT is signed with the tool's key: `iss` the tool's client id, `aud` the platform's
issuer, the request's deployment and `data` echoed. Its one content item carries
`custom.exercise` (`1`-`5` or `all`) and a `lineItem` (`scoreMaximum` the exercise's points,
`label` its title, `resourceId` its slug or `all`), so the platform makes the gradebook
column and names it in every launch of the link.
"""

from __future__ import annotations

import time
import uuid

from grader import catalog
from grader.lti.launch import CLAIM, DL_CLAIM, Refused


def content_item(public_url: str, exercise: str) -> dict:
    if exercise == "all":
        chosen = catalog.exercises()
        title, resource_id = "TinyML exercises 1–5", "all"
    else:
        try:
            ex = catalog.exercise(int(exercise))
        except (ValueError, catalog.CatalogError):
            raise Refused(422, "choose an exercise, 1 to 5, or all") from None
        chosen, title, resource_id = [ex], f"Exercise {ex.id} · {ex.title}", ex.slug
    maximum = sum(ex.max_score for ex in chosen)
    return {"type": "ltiResourceLink", "title": title, "url": f"{public_url}/lti/launch",
            "custom": {"exercise": exercise},
            "lineItem": {"scoreMaximum": maximum, "label": title, "resourceId": resource_id, "tag": "grade"}}


def response(tool, session: dict, exercise: str | None) -> dict:
    """The page's context: a form posting the signed `JWT` to the platform's deep_link_return_url."""
    if not exercise:
        raise Refused(422, "choose an exercise, 1 to 5, or all")
    platform = tool.lti.platform(session["platform_id"])
    claims = session["claims"]
    now = int(time.time())
    message = {"iss": platform["client_id"], "aud": platform["issuer"], "iat": now, "exp": now + 600,
               "nonce": uuid.uuid4().hex, "azp": platform["client_id"],
               CLAIM + "deployment_id": claims["deployment_id"],
               CLAIM + "message_type": "LtiDeepLinkingResponse", CLAIM + "version": "1.3.0",
               DL_CLAIM + "content_items": [content_item(tool.public_url, exercise.strip())]}
    if claims.get("data") is not None:
        message[DL_CLAIM + "data"] = claims["data"]
    return {"title": "Adding the exercise…", "message": "Returning to the course.",
            "action": claims["deep_link_return_url"], "fields": {"JWT": tool.keys.sign(message)}}
