"""How a runner child comes to exist: spawned fresh, or forked from a warm zygote.

Either way the child is `child.py`'s `main(argv)` in a new session and process
group, with stdin from /dev/null, stdout and stderr on `output_fd`, exactly
`pass_fds` open (at the same numbers), the given cwd and environment. The
judge gets a handle with `pid`, `poll()` and `wait(timeout)`, like `Popen`.

Spawning pays for `import tensorflow` (about 3 s) in every child. A `Zygote`
pays once: it imports TensorFlow and forks a child per session (about 0.1 s).
It also forks the judge's trusted helper scripts (`Zygote.script`), which would
otherwise import TensorFlow again; `helpers()` is the zygote of the exercise
being judged, if any. Nothing here imports the judge.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Protocol

CHILD = Path(__file__).with_name("child.py")
ZYGOTE = Path(__file__).with_name("zygote.py")
# Read when TensorFlow is imported, so the zygote's must be the runners' (see client.py).
_ZYGOTE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "CUDA_VISIBLE_DEVICES": "-1",
    "PYTHONDONTWRITEBYTECODE": "1",
}
FORK_FAILED = 70  # the exit code a runner "has" when the zygote could not fork it
ANSWER_SECONDS = 180.0  # a zygote importing TensorFlow cold on a loaded machine answers well within this


class Process(Protocol):
    pid: int | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


class Launcher(Protocol):
    def launch(self, argv: list[str], *, cwd: Path, env: dict[str, str], output_fd: int,
               pass_fds: tuple[int, ...]) -> Process: ...


class Spawn:
    """A fresh `python -I child.py ARGV` per runner."""

    def launch(self, argv: list[str], *, cwd: Path, env: dict[str, str], output_fd: int,
               pass_fds: tuple[int, ...]) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-I", str(CHILD), *argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=output_fd, stderr=output_fd, pass_fds=pass_fds, start_new_session=True, close_fds=True,
        )


class ForkedProcess:
    """A runner forked by the zygote. Its pid and exit status arrive from the zygote."""

    def __init__(self, zygote: "Zygote"):
        self._zygote = zygote
        self._pid: int | None = None
        self._known = False  # the zygote has answered the fork request
        self.returncode: int | None = None

    @property
    def pid(self) -> int | None:
        """None only if the fork failed; waits for the zygote's answer (it may still be warming up).

        A zygote that has not answered within ANSWER_SECONDS (stopped or wedged) is killed with
        its runners, never waited for forever."""
        end = time.monotonic() + ANSWER_SECONDS
        while not self._known:
            left = end - time.monotonic()
            if left <= 0:
                self._zygote._unresponsive()
                break
            self._zygote._pump(left)
        return self._pid

    def poll(self) -> int | None:
        if self.returncode is None:
            self._zygote._pump(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(str(ZYGOTE), timeout)  # type: ignore[arg-type]
            self._zygote._pump(left)
        return self.returncode

    def _forked(self, pid: int | None) -> None:
        self._pid, self._known = pid, True
        if pid is None:
            self.returncode = FORK_FAILED


class Closable(Protocol):
    def close(self) -> None: ...


class Zygote:
    """A warm process that imports TensorFlow once and forks runner children on request.

    `start()` returns at once: the zygote imports TensorFlow while the judge does its own
    work, and fork requests wait in its socket until it is ready. Used as a context
    manager, or `close()`d; it also ends by itself when the judge's end of the socket closes.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._tmp: Path | None = None
        self._pending: deque[ForkedProcess] = deque()
        self._running: dict[int, ForkedProcess] = {}
        self._kept: dict[object, Closable] = {}
        self.forks = 0

    def start(self) -> "Zygote":
        with self._lock:
            if self._proc is not None:
                return self
            self._tmp = Path(tempfile.mkdtemp(prefix="grader-zygote-"))
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            env = {**_ZYGOTE_ENV, "HOME": str(self._tmp), "TMPDIR": str(self._tmp),
                   "KERAS_HOME": str(self._tmp / ".keras")}
            with open(self._tmp / "zygote.log", "wb") as log:
                self._proc = subprocess.Popen(
                    [sys.executable, "-I", str(ZYGOTE), "--control-fd", str(theirs.fileno())],
                    cwd=self._tmp, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    pass_fds=(theirs.fileno(),), start_new_session=True, close_fds=True,
                )
            theirs.close()
            self._sock = ours
            return self

    @property
    def pid(self) -> int | None:
        """The zygote process's id while it runs (its runners are its children)."""
        return self._proc.pid if self.alive else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._sock is not None and self._proc.poll() is None

    def launch(self, argv: list[str], *, cwd: Path, env: dict[str, str], output_fd: int,
               pass_fds: tuple[int, ...]) -> Process:
        req = {"op": "fork", "argv": list(argv), "cwd": str(cwd), "env": dict(env), "fds": list(pass_fds)}
        try:
            return self._request(req, [output_fd, *pass_fds])
        except OSError:
            return Spawn().launch(argv, cwd=cwd, env=env, output_fd=output_fd, pass_fds=pass_fds)

    def script(self, script: Path, argv: list[str], *, cwd: Path, env: dict[str, str],
               stdio: tuple[int, int, int], rlimits: dict[str, int]) -> Process:
        """Fork a trusted helper: `python -I script argv` with TensorFlow imported, no sandbox.

        `stdio` are its stdin, stdout and stderr; `rlimits` maps `resource.RLIMIT_*` names
        to the values it runs under. Raises OSError when the zygote cannot be asked.
        """
        req = {"op": "script", "script": str(script), "argv": list(argv), "cwd": str(cwd), "env": dict(env),
               "rlimits": dict(rlimits)}
        return self._request(req, list(stdio))

    def kept(self, key: object, make: Callable[[], Closable]) -> Closable:
        """What `make()` made for `key`, once, kept as long as this zygote: a trusted helper that
        stays warm from one submission to the next. Closed with the zygote."""
        with self._lock:
            if key not in self._kept:
                self._kept[key] = make()
            return self._kept[key]

    def _request(self, req: dict, fds: list[int]) -> ForkedProcess:
        with self._lock:
            if not self.alive:
                self._close_zygote()
                self.start()
            assert self._sock is not None
            proc = ForkedProcess(self)
            try:
                socket.send_fds(self._sock, [json.dumps(req).encode()], fds)
            except OSError:
                self._close_zygote()
                raise
            self._pending.append(proc)
            self.forks += 1
            return proc

    def _pump(self, timeout: float | None) -> None:
        """Read what the zygote says (waiting up to `timeout` for a first message)."""
        with self._lock:
            sock = self._sock
            if sock is None:
                return
            wait = timeout
            while True:
                ready, _, _ = select.select([sock], [], [], wait)
                if not ready:
                    return
                try:
                    data = sock.recv(1 << 16)
                except OSError:
                    data = b""
                if not data:
                    self._zygote_died()
                    return
                self._dispatch(json.loads(data))
                wait = 0

    def _dispatch(self, msg: dict) -> None:
        if "forked" in msg or "failed" in msg:
            proc = self._pending.popleft()
            pid = msg.get("forked")
            proc._forked(pid)
            if pid is not None:
                self._running[pid] = proc
            else:
                print(f"grader: the zygote could not start a runner: {msg.get('failed')}", file=sys.stderr)
        elif "exited" in msg:
            proc = self._running.pop(msg["exited"], None)
            if proc is not None:
                proc.returncode = int(msg["returncode"])
            self._release(msg["exited"])

    def _release(self, pid: int) -> None:
        try:
            self._sock.send(json.dumps({"op": "release", "pid": pid}).encode())  # type: ignore[union-attr]
        except OSError:
            pass

    def _unresponsive(self) -> None:
        with self._lock:
            print("grader: the zygote did not answer a fork request: it is replaced", file=sys.stderr)
            self._zygote_died()

    def _zygote_died(self) -> None:
        """Its runners died with it (they are killed when it goes): say so to whoever waits."""
        for proc in self._pending:
            proc._forked(None)
        for proc in self._running.values():
            proc.returncode = -signal.SIGKILL
        self._pending.clear()
        self._running.clear()
        self._close_zygote()

    def _close_zygote(self) -> None:
        proc, self._proc = self._proc, None
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()  # the zygote sees EOF, kills its runners' groups and exits...
        if proc is not None:
            try:  # ...unless it is still importing TensorFlow: no runners yet, nothing to wait for
                proc.wait(timeout=1.0 if self._running else 0.05)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def close(self) -> None:
        with self._lock:
            kept, self._kept = list(self._kept.values()), {}
            for helper in kept:  # while the zygote still answers for its processes
                helper.close()
            if self._sock is not None:
                self._pump(0)
            self._zygote_died()

    def __enter__(self) -> "Zygote":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


_HELPERS: ContextVar[Zygote | None] = ContextVar("grader_helpers", default=None)


def helpers() -> Zygote | None:
    """The zygote that forks trusted helpers for the exercise being judged (None: spawn them)."""
    return _HELPERS.get()


@contextlib.contextmanager
def helpers_from(launcher: Launcher | None) -> Iterator[None]:
    """Within: `helpers()` is `launcher` when it is a zygote."""
    token = _HELPERS.set(launcher if isinstance(launcher, Zygote) else None)
    try:
        yield
    finally:
        _HELPERS.reset(token)
