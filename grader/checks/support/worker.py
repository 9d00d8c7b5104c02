"""Trusted helper scripts in throw-away processes: how the judge reads untrusted artefacts.

The judge never parses a submitted artefact in its own process: native code
reading a crafted file (a TFLite flatbuffer, the HDF5 weights of a `.keras`
file) can crash or hang. A helper script (`tflite_worker.py`, `keras_worker.py`,
importing nothing from the grader) runs as `python -I <script>` would, in a
temporary directory of its own, with a minimal environment, resource limits and
a deadline on every request. It is forked from the runners' zygote when the
exercise is judged with one (`launch.helpers()`: TensorFlow is imported there
already, so a helper starts in milliseconds, not seconds), and spawned otherwise.

Requests and answers are one JSON document per line on stdin and stdout. A
script may answer several requests (one `Worker` keeps it alive, so TensorFlow
is imported once), or one and exit. A crash, a timeout or an unreadable answer
comes back as `Answer.error` in plain words; the script is then replaced by a
fresh one at the next request.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grader.runner.launch import Process, helpers

SECONDS = 60
MEMORY_MIB = 2048  # RLIMIT_DATA; importing TensorFlow and loading a small model take about 500 MiB
FILE_MIB = 64
OPEN_FILES = 256
MAX_ANSWER_BYTES = 64 << 20
PR_SET_PDEATHSIG = 1
RLIMITS = {"RLIMIT_DATA": MEMORY_MIB << 20, "RLIMIT_FSIZE": FILE_MIB << 20, "RLIMIT_NOFILE": OPEN_FILES,
           "RLIMIT_CORE": 0}


# Run in the child before the script, rather than as a preexec_fn (unsafe in the judge, which has threads):
# limits on memory and files, no core dumps, and death with the judge.
BOOT = f"""
import runpy, signal, sys
try:
    import resource
except ImportError:
    resource = None
if resource is not None:
    for name, value in {RLIMITS!r}.items():
        which = getattr(resource, name)
        hard = resource.getrlimit(which)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))
if sys.platform == "linux":
    import ctypes
    ctypes.CDLL(None).prctl({PR_SET_PDEATHSIG}, signal.SIGKILL)
runpy.run_path(sys.argv[1], run_name="__main__")
"""


@dataclass
class Answer:
    result: dict | None
    error: str | None  # what went wrong, for a message: "crashed (signal 11): ...", "did not finish within 60 s"


class Worker:
    """One helper script, started on first use and after every failure; `directory` is where it reads files."""

    def __init__(self, script: Path, *, seconds: float = SECONDS):
        self.script = script
        self.seconds = seconds
        self._tmp = tempfile.TemporaryDirectory(prefix=f"grader-{script.stem}-")
        self.directory = Path(self._tmp.name)
        self._process: Process | None = None
        self._stdin: int | None = None  # our ends of its stdin and stdout
        self._stdout: int | None = None
        self._stderr = self.directory / "stderr.log"

    def start(self) -> None:
        """Start the script now (spawned, it imports TensorFlow while the judge does something else)."""
        if self._process is not None and self._process.poll() is None:
            return
        self._kill()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TF_CPP_MIN_LOG_LEVEL": "3", "LC_ALL": "C",
               "PYTHONDONTWRITEBYTECODE": "1"}
        in_r, self._stdin = os.pipe()  # not inheritable: only the helper gets its ends
        self._stdout, out_w = os.pipe()
        try:
            with open(self._stderr, "wb") as stderr:
                self._process = self._fork(env, (in_r, out_w, stderr.fileno())) or subprocess.Popen(
                    [sys.executable, "-I", "-c", BOOT, str(self.script)], stdin=in_r, stdout=out_w,
                    stderr=stderr, cwd=self.directory, env=env, start_new_session=True, close_fds=True,
                )
        finally:
            os.close(in_r)
            os.close(out_w)

    def _fork(self, env: dict[str, str], stdio: tuple[int, int, int]) -> Process | None:
        zygote = helpers()
        if zygote is None:
            return None
        try:
            return zygote.script(self.script, [], cwd=self.directory, env=env, stdio=stdio, rlimits=RLIMITS)
        except OSError:
            return None

    def ask(self, request: dict) -> Answer:
        """Send one request and wait for its answer, at most `seconds`."""
        self.start()
        process = self._process
        try:
            os.write(self._stdin, json.dumps(request).encode() + b"\n")
        except OSError:
            pass  # it died already: reported below
        deadline = time.monotonic() + self.seconds
        line = self._read_line(deadline)
        if line is None:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._kill()
                return Answer(None, f"did not finish within {self.seconds:g} s")
            return Answer(None, self._died(process))
        try:
            answer = json.loads(line)
        except ValueError:
            self._kill()
            return Answer(None, "sent back an unreadable answer")
        if type(answer) is not dict:
            self._kill()
            return Answer(None, "sent back an unreadable answer")
        return Answer(answer, None)

    def _read_line(self, deadline: float) -> bytes | None:
        """One line from the script's stdout, or None when it closed it, hung or flooded it."""
        fd = self._stdout
        data = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in data:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    return None
                if len(data) > MAX_ANSWER_BYTES:
                    self._kill()
                    return None
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return None
                data += chunk
        line, _, rest = bytes(data).partition(b"\n")
        if rest:
            self._kill()  # a line too many: not our protocol
        return line

    def _died(self, process: Process) -> str:
        code = process.wait()
        words = _last_words(self._stderr.read_bytes() if self._stderr.exists() else b"")
        self._process = process
        self._kill()  # closes its pipes
        if code < 0:
            return f"crashed (signal {-code}){words}"
        return f"stopped with an error{words}"

    def _kill(self) -> None:
        process, self._process = self._process, None
        pipes, self._stdin, self._stdout = (self._stdin, self._stdout), None, None
        for fd in pipes:
            if fd is not None:
                os.close(fd)
        if process is None or process.pid is None:
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        process.wait()

    def close(self) -> None:
        self._kill()
        self._tmp.cleanup()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _last_words(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith(("INFO:", "WARNING:", "W0000", "I0000"))]
    return f": {lines[-1][:300]}" if lines else ""
