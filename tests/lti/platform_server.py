"""A real LTI 1.3 platform for the tests, on 127.0.0.1: `python tests/lti/platform_server.py --port P --tool URL ...`.

Built on the PyPI package `lti1p3platform` (a platform-side implementation): its
`Registration` signs the id_tokens and publishes the platform's JWKS, its OIDC login
class starts a launch, its message launch classes build the resource-link and
deep-linking messages (with the AGS claim), `get_access_token` answers the client
credentials grant after verifying the tool's `private_key_jwt` assertion against the
tool's JWKS, `validate_deeplinking_resp` verifies the tool's deep-linking JWT and
`validate_token` checks the bearer token of a score post.

What the package does not have is written here, to the specs: the AGS line items and
the score endpoint (AGS 2.0, 3.4: POST `{lineitem}/scores`), and the platform side of
Dynamic Registration 1.0 (OpenID configuration and registration endpoint). Test
controls under /control: the scores and line items received, the number of token
requests, and switches that make the score endpoint answer 503 (down) or another status.
"""

from __future__ import annotations

import argparse
import html
import json
import secrets
import time
import typing as t
from urllib.parse import urlencode

import jwt
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from lti1p3platform.framework.fastapi.oidc_login import FastAPIOIDCLogin
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.registration import Registration

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
ROLES = {"student": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
         "instructor": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]}


class KeyedRegistration(Registration):
    """The package's registration, with a `kid` in the platform's JWKS and id_token headers."""

    kid = "platform-key-1"

    def get_kid(self):
        return self.kid

    def get_jwks(self):
        return [{**Registration.get_jwk(self.get_platform_public_key()), "kid": self.kid}]


class Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs):
        self.reg = kwargs["registration"]

    def get_registration_by_params(self, **kwargs):
        return self.reg


class Login(FastAPIOIDCLogin):
    def set_lti_message_hint(self, **kwargs):
        self._lti_message_hint = kwargs["hint"]


class Launch(LTIAdvantageMessageLaunchAbstract):
    def get_preflight_response(self):
        return dict(self._request.query_params)

    def render_launch_form(self, launch_data, **kwargs):
        fields = "".join(f'<input type="hidden" name="{k}" value="{html.escape(str(launch_data[k]))}">'
                         for k in ("id_token", "state"))
        return HTMLResponse(f'<!doctype html><html><body><form id="f" method="post" action="{html.escape(launch_data["launch_url"])}">'
                            f'{fields}<noscript><button>Continue</button></noscript></form>'
                            '<script>document.getElementById("f").submit()</script></body></html>')


def make_app(base: str, private_pem: str, public_pem: str, tool: str | None, client_id: str | None,
             deployment_id: str) -> FastAPI:
    app = FastAPI()
    reg = KeyedRegistration()
    reg.set_iss(base).set_platform_private_key(private_pem).set_platform_public_key(public_pem)
    reg.set_deployment_id(deployment_id)
    state: dict[str, t.Any] = {"links": {}, "lineitems": {}, "scores": [], "token_requests": 0, "down": False,
                               "score_status": None, "registrations": [], "deep_link_responses": 0,
                               "reg_token": "regtoken-" + secrets.token_hex(4)}

    def attach(tool_url: str, cid: str) -> None:
        reg.set_client_id(cid).set_oidc_login_url(f"{tool_url}/lti/login")
        reg.set_launch_url(f"{tool_url}/lti/launch").set_deeplink_launch_url(f"{tool_url}/lti/launch")
        reg.set_tool_key_set_url(f"{tool_url}/lti/jwks")
        reg._tool_keyset = None  # fetch the tool's keys again

    if tool and client_id:
        attach(tool, client_id)
    conf = Conf(registration=reg)

    def verified(check, payload):
        """The package keeps the tool's JWKS once fetched: fetch it again for a kid it does not know."""
        conf._registration = reg
        try:
            return check(payload)
        except Exception as e:
            if "Unable to find public key" not in str(e):
                raise
            reg._tool_keyset = None
            return check(payload)

    @app.get("/start")
    def start(request: Request, kind: str = "resource", user: str = "student-1", role: str = "student",
              link: str = "", name: str = "", storage: str = ""):
        """What a course page does: the OIDC third-party-initiated login of a launch."""
        hint = json.dumps({"kind": kind, "link": link, "role": role, "name": name})
        login = Login(request, conf)
        login.set_lti_message_hint(hint=hint)
        if kind == "deeplink":
            login.set_deeplinking_launch_url()
        response = login.initiate_login(user)
        if storage:
            response.headers["location"] += "&" + urlencode({"lti_storage_target": "_parent"})
        return response

    @app.get("/auth")
    def auth(request: Request):
        """The OIDC authorization endpoint: the launch message, signed, posted to the tool."""
        hint = json.loads(request.query_params.get("lti_message_hint", "{}"))
        launch = Launch(request, conf)
        user = request.query_params.get("login_hint", "")
        launch.set_user_data(user, ROLES[hint.get("role", "student")], full_name=hint.get("name") or user)
        launch.set_launch_context_claim("course-1", context_title="TinyML 101")
        if hint.get("kind") == "deeplink":
            launch.set_dl(f"{base}/deeplink-return", title="Add", extra_data={"opaque": "kept"},
                          accept_types={"ltiResourceLink"})
        else:
            found = state["links"].get(hint.get("link"))
            if found is None:
                return HTMLResponse("no such link", status_code=404)
            launch.set_resource_link_claim(hint["link"], title=found["title"])
            launch.set_custom_parameters_claim(found["custom"])
            launch.set_ags(f"{base}/lineitems",
                           f"{base}/lineitems/{found['lineitem']}" if found["lineitem"] else None)
        return launch.lti_launch()

    @app.get("/jwks")
    def jwks():
        return {"keys": reg.get_jwks()}

    @app.post("/deeplink-return")
    async def deeplink_return(request: Request):
        form = dict(await request.form())
        state["deep_link_responses"] += 1
        items = verified(conf.validate_deeplinking_resp, {"JWT": form["JWT"]})
        claims = jwt.decode(form["JWT"], options={"verify_signature": False})
        made = []
        for item in items:
            link_id = f"link-{len(state['links']) + 1}"
            line = item.get("lineItem") or {}
            item_id = str(len(state["lineitems"]) + 1)
            state["lineitems"][item_id] = {**line, "resourceLinkId": link_id}
            state["links"][link_id] = {"title": item.get("title"), "custom": item.get("custom") or {},
                                       "lineitem": item_id}
            made.append(link_id)
        state["last_deep_link"] = {"items": items, "claims": claims, "links": made, "jwt": form["JWT"]}
        return HTMLResponse(f"<p id='added'>added {' '.join(made)}</p>")

    @app.post("/token")
    async def token(request: Request):
        state["token_requests"] += 1
        try:
            return verified(conf.get_access_token, dict(await request.form()))
        except Exception as e:  # the package raises its own errors for a bad assertion
            return JSONResponse({"error": "invalid_client", "error_description": str(e)}, status_code=400)

    @app.post("/lineitems/{item}/scores")
    async def score(item: str, request: Request):
        if state["down"]:
            return JSONResponse({"error": "down for maintenance"}, status_code=503)
        if state["score_status"]:
            return JSONResponse({"error": "this user is not enrolled in the course"}, status_code=state["score_status"])
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            conf._registration = reg
            if not conf.validate_token(bearer, allowed_scopes=[SCORE_SCOPE]):
                return JSONResponse({"error": "scope"}, status_code=403)
        except Exception as e:
            return JSONResponse({"error": f"bad token: {e}"}, status_code=401)
        if request.headers.get("content-type") != "application/vnd.ims.lis.v1.score+json":
            return JSONResponse({"error": "content type"}, status_code=415)
        if item not in state["lineitems"]:
            return JSONResponse({"error": "no such line item"}, status_code=404)
        body = await request.json()
        state["scores"].append({"lineitem": item, **body, "received_at": time.time()})
        return JSONResponse({}, status_code=200)

    def token_ok(request: Request, scope: str) -> bool:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            conf._registration = reg
            return conf.validate_token(bearer, allowed_scopes=[scope])
        except Exception:
            return False

    @app.get("/lineitems")
    def lineitems(request: Request, resource_link_id: str = "", resource_id: str = ""):
        """AGS 2.0, 3.2: the context's line items, filtered."""
        if not token_ok(request, LINEITEM_SCOPE):
            return JSONResponse({"error": "bad token"}, status_code=401)
        return JSONResponse([{**item, "id": f"{base}/lineitems/{n}"} for n, item in state["lineitems"].items()
                             if resource_link_id in ("", item.get("resourceLinkId"))
                             and resource_id in ("", item.get("resourceId"))],
                            media_type="application/vnd.ims.lis.v2.lineitemcontainer+json")

    @app.post("/lineitems")
    async def make_lineitem(request: Request):
        """AGS 2.0, 3.2: a new line item (201, with its id)."""
        if not token_ok(request, LINEITEM_SCOPE):
            return JSONResponse({"error": "bad token"}, status_code=401)
        body = await request.json()
        if not isinstance(body.get("scoreMaximum"), (int, float)) or not body.get("label"):
            return JSONResponse({"error": "scoreMaximum and label are required"}, status_code=400)
        n = str(len(state["lineitems"]) + 1)
        state["lineitems"][n] = body
        state["lineitems_made"] = state.get("lineitems_made", 0) + 1
        return JSONResponse({**body, "id": f"{base}/lineitems/{n}"}, status_code=201)

    # ------------------------------------------------------------ dynamic registration (the platform's side)

    @app.get("/.well-known/openid-configuration")
    def openid_configuration():
        return {"issuer": base, "authorization_endpoint": f"{base}/auth", "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks", "registration_endpoint": f"{base}/register",
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "scopes_supported": ["openid", SCORE_SCOPE], "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["RS256"], "claims_supported": ["sub", "iss", "name"],
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "lti1p3platform-tests", "version": "0.1",
                    "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}]}}

    @app.post("/register")
    async def register(request: Request):
        if request.headers.get("authorization") != f"Bearer {state['reg_token']}":
            return JSONResponse({"error": "invalid registration token"}, status_code=401)
        body = await request.json()
        conf_claim = body.get("https://purl.imsglobal.org/spec/lti-tool-configuration") or {}
        if not body.get("initiate_login_uri") or not body.get("jwks_uri") or not conf_claim.get("target_link_uri"):
            return JSONResponse({"error": "invalid_client_metadata"}, status_code=400)
        cid = "dyn-" + secrets.token_hex(4)
        tool_url = body["initiate_login_uri"].removesuffix("/lti/login")
        attach(tool_url, cid)
        state["registrations"].append(body)
        return JSONResponse({**body, "client_id": cid, "https://purl.imsglobal.org/spec/lti-tool-configuration":
                             {**conf_claim, "deployment_id": deployment_id}})

    @app.get("/register-tool")
    def register_tool(tool_register: str):
        """What an LMS admin's page does: open the tool's registration URL with our configuration."""
        return RedirectResponse(tool_register + "?" + urlencode({
            "openid_configuration": f"{base}/.well-known/openid-configuration", "registration_token": state["reg_token"]}))

    # ------------------------------------------------------------ a course page, and test controls

    @app.get("/course", response_class=HTMLResponse)
    def course(link: str, user: str = "student-1", name: str = "Ada"):
        src = "/start?" + urlencode({"kind": "resource", "user": user, "link": link, "name": name})
        return (f"<!doctype html><html><body><h1>TinyML 101</h1><iframe id='tool' name='tool' src='{html.escape(src)}' "
                "style='width:100%;height:900px' allow='clipboard-write'></iframe></body></html>")

    @app.get("/control/state")
    def control_state():
        return {k: v for k, v in state.items() if k != "reg_token"} | {"client_id": reg.get_client_id(),
                                                                        "reg_token": state["reg_token"]}

    @app.post("/control/set")
    async def control_set(request: Request):
        state.update(await request.json())
        return {"ok": True}

    @app.post("/control/link")
    async def control_link(request: Request):
        """Place a link without deep linking (what an LMS does for a link made by hand)."""
        body = await request.json()
        item_id = None
        if body.get("lineitem", True):
            item_id = str(len(state["lineitems"]) + 1)
            state["lineitems"][item_id] = {"scoreMaximum": body.get("max", 10), "label": body.get("title", "Link"),
                                           "resourceLinkId": body["link"]}
        state["links"][body["link"]] = {"title": body.get("title", "Link"), "custom": body.get("custom", {}),
                                        "lineitem": item_id}
        return {"lineitem": item_id}

    return app


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True, help="the platform's private key (PEM)")
    ap.add_argument("--tool", help="the tool's public URL (manual registration)")
    ap.add_argument("--client-id")
    ap.add_argument("--deployment-id", default="deploy-1")
    args = ap.parse_args()
    from cryptography.hazmat.primitives import serialization

    private_pem = open(args.key).read()
    public_pem = serialization.load_pem_private_key(private_pem.encode(), None).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    base = f"http://127.0.0.1:{args.port}"
    app = make_app(base, private_pem, public_pem, args.tool, args.client_id, args.deployment_id)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
