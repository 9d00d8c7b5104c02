"""The judge's handle on a runner child: start it, call into it, enforce limits.

Student code only ever runs in the child. The judge sends plain data, waits
with a deadline, and gets plain data back. If the child hangs it is killed
with its whole process group; if it dies, the next call starts a fresh one.
Nothing here imports the judge.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.runner import protocol
from grader.runner.launch import Launcher, Process, Spawn
from grader.runner.watchdog import WATCH_EVERY, RunnerLimits, Watchdog, _protect_judge, _session_uid

# TensorFlow's start-up chatter on stderr: dropped from what the student is shown.
_LOG_NOISE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .*"
    rb"|.*oneDNN custom operations are on.*"
    rb"|.*To enable the following instructions: .*"
    rb"|.*This TensorFlow binary is optimized to use available CPU instructions.*)\r?$"
)
PREPARE_SECONDS = 120.0  # importing TensorFlow, cold, on a loaded machine


class StudentError(Exception):
    """Student code did not return normally. `feedback` is what the student reads."""

    def __init__(self, feedback: str):
        super().__init__(feedback)
        self.feedback = feedback


class NotAttempted(StudentError):
    """The function still raises NotImplementedError."""


class StudentRaised(StudentError):
    def __init__(self, feedback: str, exc_type: str, message: str, line: int | None, phase: str):
        super().__init__(feedback)
        self.exc_type, self.message, self.line, self.phase = exc_type, message, line, phase


class MissingFunction(StudentError):
    """The student's file has no such function."""


class StudentTimeout(StudentError):
    """A call ran past its wall-clock limit."""


class StudentCrashed(StudentError):
    """The runner process ended while running student code."""


class LimitExceeded(StudentError):
    """Student code went over a resource limit (memory, processes, output...)."""


@dataclass
class _Output:
    """Captured stdout+stderr of the child, kept up to a limit, the rest drained."""

    limit: int
    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def drain(self, fd: int) -> None:
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            room = self.limit - len(self.data)
            self.data += chunk[: max(room, 0)]
            self.dropped += max(len(chunk) - max(room, 0), 0)
        os.close(fd)

    def text(self) -> str:
        kept = [line for line in bytes(self.data).splitlines(keepends=True) if not _LOG_NOISE.match(line.rstrip(b"\n"))]
        s = b"".join(kept).decode("utf-8", errors="replace")
        if self.dropped:
            s += f"\n[... {self.dropped} more bytes of output were cut: the grader keeps the first {self.limit // 1024} KiB]"
        return s


def _while(what: str) -> str:
    """`while running loss()` for a call, `while importing loss.py` for the rest: English either way."""
    return f"while running {what}" if re.match(r"[A-Za-z_][\w.]*\(", what) else f"while {what}"


def _where(reply: dict, file_name: str) -> str:
    if reply.get("line"):
        code = f": `{reply['code']}`" if reply.get("code") else ""
        return f" ({file_name}, line {reply['line']}{code})"
    return ""


class RunnerSession:
    """One student file in one runner child (restarted after a crash or timeout)."""

    def __init__(self, student_file: Path, *, probes_file: Path | None = None,
                 limits: RunnerLimits = RunnerLimits(), runtime_seed: int = 0, hide: tuple[Path, ...] = (),
                 launcher: Launcher | None = None):
        self.student_file = Path(student_file)
        self.launcher = launcher or Spawn()  # or a warm launch.Zygote
        self.probes_file = probes_file
        self.limits = limits
        self.runtime_seed = runtime_seed
        self.hide = tuple(str(p) for p in hide)
        self.file_name = self.student_file.name
        self._tmp = Path(tempfile.mkdtemp(prefix="grader-run-"))
        self._tmp.chmod(0o711)  # the runner may run as its own uid: it must reach its work dir
        self._uid = _session_uid()
        self._watchdog: Watchdog | None = None
        _protect_judge()
        self._proc: Process | None = None
        self._output = _Output(limits.output_kib * 1024)
        self._drainers: list[threading.Thread] = []
        self._deadline = time.monotonic() + limits.exercise_seconds
        self._started = False
        self.functions: list[str] = []
        self.notes: list[str] = []
        self.student_seconds = 0.0  # how long the student's calls ran, as the runner measured them

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Start the child; it imports TensorFlow while the judge gets ready."""
        work = self._tmp / f"work{len(self._drainers)}"
        work.mkdir()
        shutil.copyfile(self.student_file, work / self.file_name)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        argv = ["--req-fd", str(req_r), "--resp-fd", str(resp_w),
                "--student", str(work / self.file_name), "--seed", str(self.runtime_seed)]
        if self.probes_file:
            argv += ["--probes", str(self.probes_file)]
        argv += ["--limits", json.dumps(self._sandbox_limits())]
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(work),
            "TMPDIR": str(work),
            "LANG": "C.UTF-8",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_ENABLE_ONEDNN_OPTS": "0",
            "CUDA_VISIBLE_DEVICES": "-1",
            "KERAS_HOME": str(work / ".keras"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self._proc = self.launcher.launch(argv, cwd=work, env=env, output_fd=out_w, pass_fds=(req_r, resp_w))
        for fd in (req_r, resp_w, out_w):
            os.close(fd)
        self._req_w, self._reader = req_w, protocol.Reader(resp_r)
        self._watchdog = None  # set once the runner says it is prepared: a zygote forks it only when warm
        t = threading.Thread(target=self._output.drain, args=(out_r,), daemon=True)
        t.start()
        self._drainers.append(t)
        self._started = True

    def wait_ready(self) -> list[str]:
        """Wait for the student's module to import; raise StudentError if it does not."""
        if not self._started:
            self.start()
        first = len(self._drainers) == 1
        prepare = PREPARE_SECONDS if first else min(PREPARE_SECONDS, self._deadline - time.monotonic())
        prepared = self._receive(prepare, what="starting Python and TensorFlow" if first else "restarting the runner")
        if self._proc is not None and self._proc.pid is not None:  # before any student code runs
            self._watchdog = Watchdog(self._proc.pid, self._uid)
        if first:  # the exercise's clock starts with the student's code, not with TensorFlow's first import
            self._deadline = time.monotonic() + self.limits.exercise_seconds
        notes = prepared.get("notes")
        if type(notes) is list:
            self.notes += [str(n)[:500] for n in notes if str(n)[:500] not in self.notes]
        reply = self._receive(self._call_budget(), what=f"importing {self.file_name}")
        if reply.get("outcome") != "ready":
            raise self._error(reply, phase="import", what=f"importing {self.file_name}")
        functions = reply.get("functions", [])
        self.functions = [f for f in functions if type(f) is str] if type(functions) is list else []
        return self.functions

    def _sandbox_limits(self) -> dict:
        """What the child's sandbox.enter() applies to itself."""
        lim = self.limits
        return {"memory_mib": lim.memory_mib, "file_mib": lim.file_mib, "open_files": lim.open_files,
                "processes": lim.processes, "uid": self._uid, "hide": list(self.hide)}

    def close(self) -> None:
        """Stop the child and collect all it printed; `output()` stays readable."""
        self._kill()
        for t in self._drainers:
            t.join(timeout=2)
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> "RunnerSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def output(self) -> str:
        return self._output.text()

    # -- calls ---------------------------------------------------------------

    def call(self, function: str, *args, **kwargs) -> dict:
        return self._request({"op": "call", "function": function, "args": list(args), "kwargs": kwargs},
                             what=f"{function}()")

    def probe(self, probe: str, *args, what: str, **kwargs) -> dict:
        return self._request({"op": "probe", "probe": probe, "args": list(args), "kwargs": kwargs}, what=what)

    def _request(self, req: dict, what: str) -> dict:
        if self._proc is None or self._proc.poll() is not None:
            self._kill()
            if self._deadline <= time.monotonic():
                raise StudentTimeout(f"The exercise's time limit ({self.limits.exercise_seconds:g} s) was used up "
                                     f"before {what} could run.")
            self.start()
            self.wait_ready()
        try:
            protocol.write_message(self._req_w, req)
        except (BrokenPipeError, OSError):
            raise self._died(what) from None
        reply = self._receive(self._call_budget(), what=what)
        if type(reply.get("seconds")) in (int, float):
            self.student_seconds += max(0.0, float(reply["seconds"]))
        outcome = reply.get("outcome")
        if outcome == "returned":
            return reply.get("value")
        if outcome == "no_function":
            raise MissingFunction(f"Your {self.file_name} has no function `{reply.get('function')}`: "
                                  "keep the function names and signatures of the stub.")
        raise self._error(reply, phase="call", what=what)

    def _call_budget(self) -> float:
        return min(self.limits.call_seconds, self._deadline - time.monotonic())

    def _receive(self, seconds: float, what: str) -> dict:
        if seconds <= 0:
            self._kill()
            raise StudentTimeout(f"The exercise's time limit ({self.limits.exercise_seconds:g} s) was used up "
                                 f"before {what} could run.")
        end = time.monotonic() + seconds
        while True:
            try:
                ok, msg = self._reader.take()
                if ok and type(msg) is not dict:
                    raise protocol.ProtocolError("reply is not a message")
            except protocol.ProtocolError as e:
                self._kill()  # the channel is out of step: only a fresh runner can be trusted again
                raise StudentCrashed(f"Your code interfered with the grader's channel to the runner {_while(what)} "
                                     f"({e}); a graded function must only return its result.") from None
            if ok:
                return msg
            left = end - time.monotonic()
            if left <= 0:
                self._kill()
                raise StudentTimeout(f"Your code did not finish {what} within {seconds:.3g} s; "
                                     "look for a loop that never ends or work that grows too fast.")
            self._watch(what)
            ready, _, _ = select.select([self._reader.fd], [], [], min(left, WATCH_EVERY))
            if ready:
                chunk = os.read(self._reader.fd, 1 << 20)
                if not chunk:
                    raise self._died(what)
                self._reader.feed(chunk)

    def _error(self, reply: dict, phase: str, what: str) -> StudentError:
        if reply.get("outcome") != "raised":
            return StudentCrashed(f"The runner sent an unexpected reply {_while(what)}.")
        exc, msg = str(reply.get("exc_type")), str(reply.get("message"))
        where = _where(reply, self.file_name)
        if reply.get("not_implemented"):
            return NotAttempted(f"Not attempted yet: {what} still raises NotImplementedError{where}. "
                                "Replace the `raise NotImplementedError` with your code.")
        if exc == "SyntaxError" or exc == "IndentationError" or exc == "TabError":
            feedback = f"Python cannot read your {self.file_name}: {exc}: {msg}{where}."
        elif exc == "SystemExit":
            feedback = f"Your code called exit() ({msg or 'no code'}) {_while(what)}{where}; a graded function must return a value."
        elif reply.get("limit") in self._LIMIT_WORDS:
            return LimitExceeded(self._limit_words(str(reply["limit"]), what + where, exc, msg))
        else:
            feedback = f"Your code raised {exc}: {msg} {_while(what)}{where}."
        return StudentRaised(feedback, exc, msg, reply.get("line"), phase)

    _LIMIT_WORDS = {
        "memory": "used more than {memory} of memory",
        "processes": "started more than {processes} processes or threads",
        "file": "wrote a file larger than {file_mib} MiB",
        "open_files": "opened more than {open_files} files at once",
    }

    def _limit_words(self, limit: str, what: str, exc: str = "", msg: str = "") -> str:
        lim = self.limits
        did = self._LIMIT_WORDS[limit].format(memory=lim.memory_words(), processes=lim.processes,
                                              file_mib=lim.file_mib, open_files=lim.open_files)
        cause = f" ({exc}: {msg})" if exc else ""
        return f"Your code {did} {_while(what)}{cause}: that is over this exercise's limit."

    def _watch(self, what: str) -> None:
        """Kill the runner when its process tree goes over the memory or process limit."""
        if self._watchdog is None or not self._watchdog.due():
            return
        over = self._watchdog.over(self.limits)
        if over:
            self._kill()
            raise LimitExceeded(self._limit_words(over, what))

    def _died(self, what: str) -> StudentError:
        try:
            code = self._proc.wait(timeout=5) if self._proc else None
        except subprocess.TimeoutExpired:
            code = None
        self._kill()
        if code is not None and code < 0:
            sig = signal.Signals(-code).name
            if -code == signal.SIGXFSZ:
                return LimitExceeded(self._limit_words("file", what))
            return StudentCrashed(f"The process running your code was killed by {sig} {_while(what)}.")
        return StudentCrashed(f"Your code ended the Python process (exit code {code}) {_while(what)}; "
                              "a graded function must return, not call os._exit() or exit().")

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if self._watchdog is not None:
            self._watchdog.kill_all()
            try:  # a warden (the runner's parent outside its PID namespace) ends once it has reaped the runner
                proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
        try:
            if proc.pid is not None:  # None: a zygote that could not fork it
                os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self._watchdog is not None:
            self._watchdog.kill_all()  # anything forked while the runner was dying
        for fd in (self._req_w, self._reader.fd):
            try:
                os.close(fd)
            except OSError:
                pass
