"""Running the service: the data directory taken, uvicorn started, SIGTERM handled.

uvicorn turns SIGTERM (and Ctrl-C) into a graceful shutdown: it stops accepting
connections, gives open requests a few seconds, then the app's lifespan ends,
which stops the dispatcher: no new job is claimed, running jobs get `drain_s`
to finish, and what is still running then is handed back to the queue. The last
log line is `stopped` (with the signal's name), written after all that.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import socket
from pathlib import Path

from grader.service.config import Config
from grader.service.logs import event, setup


class DataDirError(Exception):
    """The `--data` directory cannot be used; the message says why and what to do."""


class DataDirBusy(DataDirError):
    """Another `grade serve` uses this data directory."""


class CannotListen(Exception):
    """The service cannot listen on `--host`/`--port`; the message says why and what to do."""


def private_dir(data: Path) -> None:
    """Make the data directory, readable by its owner only: keys' hashes, webhook secrets, submissions."""
    try:
        data.mkdir(parents=True, exist_ok=True)
        os.chmod(data, 0o700)
    except OSError as e:
        raise DataDirError(_data_problem(data, e)) from None


def _data_problem(data: Path, error: OSError) -> str:
    if data.exists() and not data.is_dir():
        return f"--data {data} is a file: give a directory for the service's state (it is created if missing)"
    blocking = next((p for p in data.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        return f"--data {data} is under {blocking}, which is a file: give a path under a directory"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"--data {data} cannot be created or written ({error.strerror}): give a directory you can write"
    return f"--data {data} cannot be used ({error.strerror}): give another directory"


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port`, before anything starts, so a bad address is one clear error."""
    where = f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as e:
        raise CannotListen(f"cannot listen on {where}: the --host is not an address of this machine or a known "
                           f"name ({e.strerror}): give an address such as 127.0.0.1 or 0.0.0.0") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as e:
        sock.close()
        advice = {errno.EADDRINUSE: "another process listens there: stop it or choose another --port",
                  errno.EADDRNOTAVAIL: "this machine has no such address: give one of its own, or 0.0.0.0",
                  errno.EACCES: "ports below 1024 need privileges: choose a port from 1024 up"}
        raise CannotListen(f"cannot listen on {where}: {advice.get(e.errno, e.strerror)}") from None
    return sock


def lock_data(data: Path):
    """Take the data directory for this process (the service is the one writer of its database)."""
    private_dir(data)
    handle = open(data / "serve.lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DataDirBusy(f"another grade serve is using {data}") from None
    return handle


def run(config: Config, host: str, port: int) -> None:
    import uvicorn

    class _Server(uvicorn.Server):
        """uvicorn's server; on SIGTERM or Ctrl-C the dispatcher stops claiming at once."""

        def __init__(self, service, cfg):
            super().__init__(cfg)
            self.service = service
            self.signal: int | None = None
            self.stopped = False

        def handle_exit(self, sig, frame) -> None:
            self.signal = self.signal or sig
            self.service.dispatcher.quiesce()
            super().handle_exit(sig, frame)

        async def shutdown(self, sockets=None) -> None:
            # The last line, once the running jobs are handed back: uvicorn then raises the
            # signal again (the process ends by SIGTERM), so nothing after `run` would be logged.
            await super().shutdown(sockets=sockets)
            self.stopped = True
            event("stopped", signal=signal.Signals(self.signal).name if self.signal else None)

    from grader.service.app import create_app
    from grader.service.service import Service

    setup()
    lock = lock_data(config.data)
    try:
        sock = listen(host, port)
        service = Service(config)
        service.tidy()
        app = create_app(config, service)
        shown = f"[{host}]" if ":" in host else host
        event("serving", url=f"http://{shown}:{sock.getsockname()[1]}", data=str(config.data.resolve()),
              workers=config.workers, pid=os.getpid())
        server = _Server(service, uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                               timeout_graceful_shutdown=5, lifespan="on", server_header=False))
        server.run(sockets=[sock])
        if not server.stopped:
            event("stopped")
    finally:
        lock.close()
