"""OIDC login and launch validation (LTI Core 1.3, section 5; IMS Security Framework 5.1).

`login` answers the platform's third-party-initiated login with a redirect to its
authorization endpoint, after writing the `state` and `nonce` to the database. `validate`
checks an id_token: the state is known (and taken: good for one launch), the signature
verifies against the platform's JWKS (fetched again once when the `kid` is unknown: a
platform that rotated its key), `iss`, `aud`/`azp`, `exp`/`iat`, the nonce is the login's
and was never used, the deployment is registered. Any failure raises `Refused` (4xx) before
a session exists.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import jwt

from grader.lti import outbound
from grader.lti.store import LtiStore

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
LEEWAY_S = 30
JWKS_REFRESH_S = 10.0  # at most one fetch of a platform's keys per this many seconds for an unknown kid
STAFF = ("membership#Instructor", "membership/Instructor#", "membership#Administrator", "institution/person#Administrator",
         "system/person#Administrator", "membership#ContentDeveloper", "membership#Mentor")


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Launch:
    platform: dict
    claims: dict
    storage_target: str | None

    @property
    def message_type(self) -> str:
        return self.claims.get(CLAIM + "message_type", "")

    @property
    def deployment_id(self) -> str:
        return self.claims[CLAIM + "deployment_id"]

    @property
    def staff(self) -> bool:
        return any(part in role for role in self.claims.get(CLAIM + "roles", []) for part in STAFF)


def login(lti: LtiStore, params: dict, public_url: str) -> tuple[str, str]:
    """(the authorization URL to redirect to, the state); Refused for an unknown platform or target."""
    issuer, hint = params.get("iss"), params.get("login_hint")
    if not issuer or not hint:
        raise Refused(400, "the login request lacks 'iss' or 'login_hint': start the tool from the LMS")
    found = lti.find_platform(issuer, params.get("client_id"))
    if not found:
        raise Refused(400, f"the platform '{issuer}' is not registered with this tool: an administrator adds it "
                           "with `grade lti add-platform` or dynamic registration")
    if len(found) > 1:
        raise Refused(400, f"the platform '{issuer}' has several registrations and sent no client_id")
    platform = found[0]
    deployment = params.get("lti_deployment_id")
    if deployment and deployment not in platform["deployment_ids"]:
        raise Refused(403, f"the deployment '{deployment}' of '{issuer}' is not registered with this tool")
    target = params.get("target_link_uri") or f"{public_url}/lti/launch"
    if not target.startswith(public_url + "/"):
        raise Refused(400, f"the target_link_uri '{target}' is not this tool's ({public_url})")
    storage = params.get("lti_storage_target") or None
    state, nonce = lti.new_state(platform["id"], storage)
    query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
             "client_id": platform["client_id"], "redirect_uri": f"{public_url}/lti/launch", "login_hint": hint,
             "state": state, "nonce": nonce}
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    sep = "&" if "?" in platform["auth_url"] else "?"
    return f"{platform['auth_url']}{sep}{urlencode(query)}", state


def _key(lti: LtiStore, platform: dict, kid: str | None, allow_private: bool):
    def find(jwks: dict):
        keys = jwks.get("keys", [])
        match = [k for k in keys if k.get("kid") == kid] if kid else keys[:1]
        return jwt.PyJWK(match[0], "RS256").key if match else None

    cached = json.loads(platform["jwks"]) if platform["jwks"] else None
    key = find(cached) if cached else None
    if key is None and (cached is None or time.time() - (platform["jwks_at"] or 0) > JWKS_REFRESH_S):
        try:
            fresh = outbound.get_json(platform["jwks_url"], allow_private)
        except outbound.PlatformUnreachable as e:
            raise Refused(502, f"the platform's keys could not be fetched: {e}") from None
        lti.keep_jwks(platform["id"], fresh)
        try:
            key = find(fresh)
        except (jwt.PyJWKError, jwt.InvalidKeyError) as e:
            raise Refused(403, f"the platform's key '{kid}' is unusable: {e}") from None
    if key is None:
        raise Refused(403, f"the launch is signed with a key ('{kid}') the platform does not list")
    return key


def peek_state(lti: LtiStore, state: str | None) -> dict:
    row = lti.store.one("SELECT * FROM lti_states WHERE state = ? AND expires_at >= ?", (state or "", time.time()))
    if row is None:
        raise Refused(403, "the launch's state is unknown, expired or used (it is good for one launch, 10 minutes): "
                           "start the tool again from the LMS")
    return dict(row)


def validate(lti: LtiStore, id_token: str | None, state: str | None, allow_private: bool) -> Launch:
    if not id_token:
        raise Refused(400, "the launch has no id_token: start the tool from the LMS")
    row = lti.take_state(state or "")
    if row is None:
        raise Refused(403, "the launch's state is unknown, expired or used: start the tool again from the LMS")
    platform = lti.platform(row["platform_id"])
    if platform is None:
        raise Refused(403, "the platform of this launch is no longer registered")
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.DecodeError:
        raise Refused(400, "the id_token is not a JWT") from None
    if header.get("alg") != "RS256":
        raise Refused(403, "the id_token must be signed with RS256")
    key = _key(lti, platform, header.get("kid"), allow_private)
    try:
        claims = jwt.decode(id_token, key, algorithms=["RS256"], audience=platform["client_id"],
                            issuer=platform["issuer"], leeway=LEEWAY_S,
                            options={"require": ["exp", "iat", "iss", "aud", "nonce"]})
    except jwt.ExpiredSignatureError:
        raise Refused(403, "the launch has expired: start the tool again from the LMS") from None
    except jwt.InvalidSignatureError:
        raise Refused(403, "the launch's signature does not verify with the platform's key") from None
    except jwt.InvalidIssuerError:
        raise Refused(403, "the launch's issuer is not the platform that started the login") from None
    except jwt.InvalidAudienceError:
        raise Refused(403, "the launch is addressed to another tool (aud)") from None
    except jwt.PyJWTError as e:
        raise Refused(403, f"the launch's token is invalid: {e}") from None
    aud = claims["aud"]
    if (isinstance(aud, list) and len(aud) > 1 or "azp" in claims) and claims.get("azp") != platform["client_id"]:
        raise Refused(403, "the launch is authorized for another tool (azp)")
    if claims["nonce"] != row["nonce"]:
        raise Refused(403, "the launch's nonce is not the one of its login")
    if not lti.use_nonce(platform["id"], claims["nonce"], float(claims["exp"])):
        raise Refused(403, "this launch was used already (replayed nonce): start the tool again from the LMS")
    if claims.get(CLAIM + "deployment_id") not in platform["deployment_ids"]:
        raise Refused(403, f"the deployment '{claims.get(CLAIM + 'deployment_id')}' is not registered with this tool")
    if claims.get(CLAIM + "version") != "1.3.0":
        raise Refused(400, "only LTI 1.3.0 launches are supported")
    kind = claims.get(CLAIM + "message_type")
    if kind not in ("LtiResourceLinkRequest", "LtiDeepLinkingRequest"):
        raise Refused(400, f"the message type '{kind}' is not supported by this tool")
    if not claims.get("sub"):
        raise Refused(400, "the launch has no user ('sub'): this tool needs to know who submits")
    return Launch(platform, claims, row["storage_target"])
