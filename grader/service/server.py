"""Running the service: the data directory taken, uvicorn started, SIGTERM handled.

uvicorn turns SIGTERM (and Ctrl-C) into a graceful shutdown: it stops accepting
connections, gives open requests a few seconds, then the app's lifespan ends,
which stops the dispatcher: no new job is claimed, running jobs get `drain_s`
to finish, and what is still running then is handed back to the queue.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from grader.service.config import Config
from grader.service.logs import event, setup


class DataDirBusy(Exception):
    """Another `grade serve` uses this data directory."""


def private_dir(data: Path) -> None:
    """Make the data directory, readable by its owner only: keys' hashes, webhook secrets, submissions."""
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data, 0o700)


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

        def handle_exit(self, sig, frame) -> None:
            self.service.dispatcher.quiesce()
            super().handle_exit(sig, frame)

    from grader.service.app import create_app
    from grader.service.service import Service

    setup()
    lock = lock_data(config.data)
    try:
        service = Service(config)
        service.tidy()
        app = create_app(config, service)
        event("serving", url=f"http://{host}:{port}", data=str(config.data.resolve()), workers=config.workers,
              pid=os.getpid())
        server = _Server(service, uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                               timeout_graceful_shutdown=5, lifespan="on", server_header=False))
        server.run()
        event("stopped")
    finally:
        lock.close()
