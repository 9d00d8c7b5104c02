"""`grade serve` and `grade keys create|list|revoke|purge`. `grader/cli/app.py` adds them with `register(app)`.

Only light modules are imported here: the web process never loads TensorFlow,
NumPy or the grading API.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from grader.service.config import DEFAULT_CALLBACK_DELAYS, DEFAULT_DATA, Config, parse_delays

DataOpt = Annotated[Path, typer.Option("--data", help="the service's state: database and submissions")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON document on stdout")]

keys_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                       help="Manage the API keys of `grade serve`.")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"grade: {message}", err=True)
    return typer.Exit(code)


def serve(
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="port to listen on")] = 8000,
    data: DataOpt = DEFAULT_DATA,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="grading slots [default: number of cores]")] = None,
    broker: Annotated[Optional[str], typer.Option("--broker", help="redis://... : grading by `grade worker` processes")] = None,
    allow_private_callbacks: Annotated[bool, typer.Option("--allow-private-callbacks", help="allow callback URLs on loopback and private networks")] = False,
    max_body_mib: Annotated[float, typer.Option("--max-body-mib", min=0.01, help="largest request body")] = 8.0,
    queue_max: Annotated[int, typer.Option("--queue-max", min=1, help="queued submissions before POST answers 503")] = 1000,
    rate_limit: Annotated[float, typer.Option("--rate-limit", min=0.01, help="submissions per minute per key (a key may have its own)")] = 120.0,
    callback_delays: Annotated[str, typer.Option("--callback-delays", help="seconds before each callback try, comma-separated")] = ",".join(f"{d:g}" for d in DEFAULT_CALLBACK_DELAYS),
    job_timeout: Annotated[Optional[float], typer.Option("--job-timeout", min=1, help="seconds one grading may take [default: from the exercises' limits]")] = None,
    drain: Annotated[float, typer.Option("--drain", min=0, help="on SIGTERM, seconds running jobs may finish before they are handed back")] = 30.0,
    retain_days: Annotated[float, typer.Option("--retain-days", min=0, help="delete finished submissions and their files this many days after they ended (0: keep them)")] = 90.0,
    metrics_public: Annotated[bool, typer.Option("--metrics-public", help="serve /metrics without a key (default: 'Authorization: Bearer <key>' as for /v1)")] = False,
    public_url: Annotated[Optional[str], typer.Option("--public-url", help="also an LTI 1.3 tool at this address (what browsers and LMSs reach)")] = None,
) -> None:
    """Run the grader as an HTTP service (API under /v1, docs at /docs)."""
    if broker is not None:
        from grader.worker.cli import broker_problem

        if (problem := broker_problem(broker)) is not None:
            raise _fail(problem)
    from grader import catalog

    try:
        catalog.secret_seed()  # a bad one would fail every submission, after it was accepted
    except catalog.CatalogError as e:
        raise _fail(str(e)) from None
    try:
        delays = parse_delays(callback_delays)
    except ValueError as e:
        raise _fail(f"--callback-delays: {e}") from None
    if public_url is not None:
        from grader.lti.config import check_public_url

        try:
            public_url = check_public_url(public_url)
        except ValueError as e:
            raise _fail(f"--public-url: {e}") from None
    from grader.service.server import CannotListen, DataDirError, run

    config = Config(data=data, workers=workers or os.cpu_count() or 1, allow_private_callbacks=allow_private_callbacks,
                    max_body_bytes=int(max_body_mib * 1024 * 1024), queue_max=queue_max, rate_per_minute=rate_limit,
                    callback_delays=delays, job_timeout_s=job_timeout, drain_s=drain, broker=broker,
                    retain_days=retain_days, metrics_public=metrics_public,
                    public_url=public_url)
    try:
        run(config, host, port)
    except DataDirError as e:
        raise _fail(str(e)) from None
    except CannotListen as e:
        raise _fail(str(e), 3) from None
    except OSError as e:
        raise _fail(f"cannot serve: {e}", 3) from None


def _store(data: Path, create: bool = False):
    from grader.service.server import DataDirError, private_dir
    from grader.service.store import Store

    if not create and not (data / "service.db").is_file():
        raise _fail(f"no service database in {data}: pass the --data of your `grade serve`, "
                    "or create a key first with `grade keys create NAME`")
    try:
        private_dir(data)
        return Store(data / "service.db")
    except DataDirError as e:
        raise _fail(str(e)) from None
    except Exception as e:
        raise _fail(f"cannot open the service's database in {data}: {e}", 3) from None


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="a name for the key, e.g. the course or the LMS")],
    data: DataOpt = DEFAULT_DATA,
    json_out: JsonOpt = False,
    rate_limit: Annotated[Optional[float], typer.Option("--rate-limit", min=0.01, help="this key's submissions per minute [default: the service's]")] = None,
) -> None:
    """Create an API key; prints it and its webhook secret, once."""
    from grader.service import keys

    try:
        new = keys.create(_store(data, create=True), name, rate_limit)
    except keys.KeyError_ as e:
        raise _fail(str(e)) from None
    if json_out:
        typer.echo(json.dumps({"name": new.name, "key": new.key, "webhook_secret": new.webhook_secret}))
        return
    typer.echo(f"key:            {new.key}\nwebhook secret: {new.webhook_secret}")
    typer.echo("Both are shown once: keep them now. Send the key as 'Authorization: Bearer <key>'.", err=True)


@keys_app.command("list")
def keys_list(data: DataOpt = DEFAULT_DATA, json_out: JsonOpt = False) -> None:
    """List the keys (names and dates; the keys themselves are not stored)."""
    from grader.service import keys
    from grader.service.service import iso

    found = [{**k, "created_at": iso(k["created_at"]), "revoked_at": iso(k["revoked_at"])}
             for k in keys.listing(_store(data))]
    if json_out:
        typer.echo(json.dumps(found))
        return
    typer.echo(f"{'name':<28}{'created':<26}{'submissions':>12}   state")
    for k in found:
        state = f"revoked {k['revoked_at']}" if k["revoked_at"] else "active"
        typer.echo(f"{k['name']:<28}{k['created_at']:<26}{k['submissions']:>12}   {state}")


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="the key's name")], data: DataOpt = DEFAULT_DATA,
                json_out: JsonOpt = False) -> None:
    """Revoke a key: its requests answer 401 from now on (its submissions stay)."""
    from grader.service import keys

    try:
        keys.revoke(_store(data), name)
    except keys.KeyError_ as e:
        raise _fail(str(e)) from None
    if json_out:
        typer.echo(json.dumps({"name": name, "revoked": True}))
    else:
        typer.echo(f"revoked {name}", err=True)


@keys_app.command("purge")
def keys_purge(name: Annotated[str, typer.Argument(help="the key's name")], data: DataOpt = DEFAULT_DATA,
               yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
               json_out: JsonOpt = False) -> None:
    """Delete every submission of a key, with its files and report, whatever its state (a right to deletion).

    The key itself stays usable: `grade keys revoke` ends it.
    """
    import sys

    from grader.service import keys

    store = _store(data)
    if not keys.exists(store, name):
        raise _fail(f"no key named '{name}' in {data}")
    if not yes:
        if not sys.stdin.isatty():
            raise _fail(f"purge deletes every submission of '{name}' for good: pass --yes to confirm")
        if not typer.confirm(f"Delete every submission of '{name}' and its files, for good?", err=True):
            raise _fail("nothing deleted", 1)
    deleted = keys.purge(store, name)
    if json_out:
        typer.echo(json.dumps({"name": name, "submissions_deleted": deleted}))
    else:
        typer.echo(f"purged {name}: {deleted} submissions deleted with their files", err=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")
