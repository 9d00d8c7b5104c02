"""LTI Dynamic Registration 1.0: the platform opens `/lti/register?openid_configuration=…&registration_token=…`.

The tool reads the platform's OpenID configuration (its issuer must be the origin the
configuration URL is on), posts its own client registration to the platform's
`registration_endpoint` with the registration token, and keeps the client id and
deployment the platform answers, as `grade lti add-platform` would. Both calls go
through the checked outbound path: the URL comes from a browser.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from grader.lti import outbound
from grader.lti.launch import Refused
from grader.service.logs import event

TOOL_CONF = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONF = "https://purl.imsglobal.org/spec/lti-platform-configuration"
SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/score",
          "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
          "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"]


def client_registration(public_url: str) -> dict:
    """What the tool asks the platform to register (the body of the registration request)."""
    return {
        "application_type": "web", "response_types": ["id_token"], "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": f"{public_url}/lti/login", "redirect_uris": [f"{public_url}/lti/launch"],
        "client_name": "tinyml-grader", "jwks_uri": f"{public_url}/lti/jwks",
        "token_endpoint_auth_method": "private_key_jwt", "scope": " ".join(SCOPES),
        TOOL_CONF: {
            "domain": urlsplit(public_url).netloc, "target_link_uri": f"{public_url}/lti/launch",
            "description": "Autograded TinyML exercises: students submit, see their result, scores go to the gradebook.",
            "claims": ["iss", "sub", "name", "given_name"],
            "messages": [{"type": "LtiDeepLinkingRequest", "target_link_uri": f"{public_url}/lti/launch",
                          "label": "TinyML exercise"},
                         {"type": "LtiResourceLinkRequest", "target_link_uri": f"{public_url}/lti/launch"}],
        },
    }


def dynamic(tool, params: dict):
    config_url, token = params.get("openid_configuration"), params.get("registration_token")
    if not config_url:
        raise Refused(400, "open this address from the LMS's tool registration: it needs 'openid_configuration'")
    try:
        conf = outbound.get_json(config_url, tool.allow_private)
    except outbound.PlatformUnreachable as e:
        raise Refused(502, f"the platform's configuration could not be read: {e}") from None
    issuer = conf.get("issuer")
    wanted = ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
    missing = [k for k in ("issuer", *wanted) if not isinstance(conf.get(k), str)]
    if missing:
        raise Refused(502, f"the platform's configuration lacks {', '.join(missing)}")
    if urlsplit(issuer).netloc != urlsplit(config_url).netloc:
        raise Refused(403, f"the configuration's issuer '{issuer}' is not on the host it was read from")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with httpx.Client() as client:
            r = outbound.request(client, "POST", conf["registration_endpoint"], tool.allow_private,
                                 json=client_registration(tool.public_url), headers=headers)
    except outbound.PlatformUnreachable as e:
        raise Refused(502, f"the platform's registration endpoint could not be reached: {e}") from None
    if r.status_code not in (200, 201):
        raise Refused(502, f"the platform refused the registration ({r.status_code}): {r.text[:300]}")
    try:
        doc = r.json()
        client_id = doc["client_id"]
        deployment = (doc.get(TOOL_CONF) or {}).get("deployment_id")
    except (ValueError, KeyError, TypeError):
        raise Refused(502, "the platform's registration answer has no client_id") from None
    name = (conf.get(PLATFORM_CONF) or {}).get("product_family_code")
    tool.lti.add_platform(issuer, client_id, [deployment] if deployment else [], conf["authorization_endpoint"],
                          conf["token_endpoint"], conf["jwks_uri"], name)
    event("lti_registered", issuer=issuer, client_id=client_id, deployment=deployment)
    return tool.page("registered.html", title="Registered",
                     message=f"Registered with {name or issuer} as client {client_id}"
                             + (f", deployment {deployment}." if deployment else "."))
