"""`grade lti tool-config|add-platform|platforms|remove-platform|rotate-key`. Registered by grader/cli/app.py.

Every command takes `--data`, as `grade serve` does: the tool's key and the platforms live there.
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from grader.cli.service import DataOpt, JsonOpt, _fail, _store
from grader.service.config import DEFAULT_DATA

lti_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                      help="The LTI 1.3 tool of `grade serve --public-url`: its configuration and platforms.")


def _lti(data):
    from grader.lti.store import LtiStore

    return LtiStore(_store(data, create=True))


def _url(value: str, option: str) -> str:
    from grader.lti.config import LOCAL
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(f"{option}: '{value}' is not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in LOCAL:
        raise _fail(f"{option}: a platform is reached over https (http only on 127.0.0.1 and localhost)")
    return value


@lti_app.command("tool-config")
def tool_config(
    public_url: Annotated[str, typer.Option("--public-url", help="the address of `grade serve --public-url`")],
    data: DataOpt = DEFAULT_DATA, json_out: JsonOpt = False,
) -> None:
    """The tool's URLs and public keys, to paste into an LMS."""
    from grader.lti.config import check_public_url, endpoints
    from grader.lti.keys import ToolKeys
    from grader.service.server import DataDirError, private_dir

    try:
        url = check_public_url(public_url)
        private_dir(data)
    except (ValueError, DataDirError) as e:
        raise _fail(f"--public-url: {e}" if isinstance(e, ValueError) else str(e)) from None
    doc = {**endpoints(url), "target_link_uri": f"{url}/lti/launch", "redirect_uris": [f"{url}/lti/launch"],
           "jwks_keys": ToolKeys(data).jwks(), "custom_parameters": "exercise=1 (1-5 or all; deep linking sets it)",
           "scopes": ["https://purl.imsglobal.org/spec/lti-ags/scope/score",
                      "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"]}
    if json_out:
        typer.echo(json.dumps(doc, indent=2))
        return
    for name, label in (("login", "OpenID Connect login (initiate login) URL"), ("launch", "Redirect / target link URI"),
                        ("jwks", "Public keyset (JWKS) URL"), ("register", "Dynamic registration URL")):
        typer.echo(f"{label + ':':<45}{doc[name]}")
    typer.echo(f"{'Deep linking:':<45}supported (same launch URL)\n{'Public key (JWK):':<45}"
               + json.dumps(doc["jwks_keys"]["keys"][-1]))


@lti_app.command("add-platform")
def add_platform(
    issuer: Annotated[str, typer.Option("--issuer", help="the platform's issuer (iss)")],
    client_id: Annotated[str, typer.Option("--client-id", help="the client id the platform gave the tool")],
    deployment_id: Annotated[list[str], typer.Option("--deployment-id", help="a deployment id (repeat for several)")],
    auth_url: Annotated[str, typer.Option("--auth-url", help="the platform's OIDC authorization endpoint")],
    token_url: Annotated[str, typer.Option("--token-url", help="the platform's OAuth2 token endpoint")],
    jwks_url: Annotated[str, typer.Option("--jwks-url", help="the platform's public keyset URL")],
    name: Annotated[Optional[str], typer.Option("--name", help="a name to show")] = None,
    data: DataOpt = DEFAULT_DATA, json_out: JsonOpt = False,
) -> None:
    """Register a platform by hand (or add a deployment to a registered one)."""
    for value, option in ((auth_url, "--auth-url"), (token_url, "--token-url"), (jwks_url, "--jwks-url")):
        _url(value, option)
    if not issuer.strip() or not client_id.strip() or not all(d.strip() for d in deployment_id):
        raise _fail("--issuer, --client-id and --deployment-id must not be empty")
    lti = _lti(data)
    pid = lti.add_platform(issuer, client_id, deployment_id, auth_url, token_url, jwks_url, name)
    found = lti.platform(pid)
    if json_out:
        typer.echo(json.dumps(_shown(found)))
    else:
        typer.echo(f"registered {issuer} (client {client_id}; deployments {', '.join(found['deployment_ids'])})", err=True)


def _shown(p: dict) -> dict:
    return {k: p[k] for k in ("issuer", "client_id", "deployment_ids", "auth_url", "token_url", "jwks_url", "name")}


@lti_app.command("platforms")
def platforms(data: DataOpt = DEFAULT_DATA, json_out: JsonOpt = False) -> None:
    """List the registered platforms."""
    found = [_shown(p) for p in _lti(data).platforms()]
    if json_out:
        typer.echo(json.dumps(found))
        return
    if not found:
        typer.echo("no platform registered: `grade lti add-platform`, or dynamic registration at /lti/register", err=True)
    for p in found:
        typer.echo(f"{p['issuer']}  client {p['client_id']}  deployments {', '.join(p['deployment_ids'])}")


@lti_app.command("remove-platform")
def remove_platform(
    issuer: Annotated[str, typer.Option("--issuer")], client_id: Annotated[str, typer.Option("--client-id")],
    data: DataOpt = DEFAULT_DATA, json_out: JsonOpt = False,
) -> None:
    """Remove a platform: its launches are refused from now on."""
    if not _lti(data).remove_platform(issuer, client_id):
        raise _fail(f"no platform {issuer} with client id {client_id}")
    if json_out:
        typer.echo(json.dumps({"issuer": issuer, "client_id": client_id, "removed": True}))
    else:
        typer.echo(f"removed {issuer} (client {client_id})", err=True)


@lti_app.command("rotate-key")
def rotate_key(data: DataOpt = DEFAULT_DATA, json_out: JsonOpt = False) -> None:
    """A new signing key; the old one stays in /lti/jwks for an hour, until the tokens it signed expire."""
    from grader.lti import keys
    from grader.service.server import DataDirError, private_dir

    try:
        private_dir(data)
    except DataDirError as e:
        raise _fail(str(e)) from None
    new, old = keys.rotate(data)
    if json_out:
        typer.echo(json.dumps({"kid": new, "retired": old}))
    else:
        typer.echo(f"signing with key {new}; {old} stays listed for {keys.RETIRED_LISTED_S / 60:.0f} minutes", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(lti_app, name="lti")
