"""The zygote: imports TensorFlow once, then forks a runner child per session.

Started by the judge as `python -I zygote.py --control-fd N` with a scrubbed
environment. It imports what every runner needs (TensorFlow, NumPy, child.py)
but runs no TensorFlow op: a process that has run one holds thread pools and
cannot fork safely. Then it serves requests on a Unix SEQPACKET socket, one
JSON message per packet:

  judge -> zygote  {"op": "fork", "argv": [...], "cwd": ..., "env": {...}, "fds": [n, ...]}
                   with SCM_RIGHTS: the stdout/stderr fd, then one fd per entry of "fds"
  zygote -> judge  {"forked": pid}
                   {"failed": message}                  (no process: the fds were closed)
                   {"exited": pid, "returncode": rc}   (rc < 0: killed by signal -rc)
  judge -> zygote  {"op": "release", "pid": pid}       reap it: only now may its pid be reused
  judge -> zygote  {"op": "script", "script": path, "argv": [...], "cwd": ..., "env": {...},
                    "rlimits": {"RLIMIT_DATA": bytes, ...}}
                   with SCM_RIGHTS: the stdin, stdout and stderr fds; answered like "fork"

A forked child becomes what `python -I child.py ARGV` would be: a new session
and process group, stdin from /dev/null, stdout and stderr to the given fd,
exactly the given fds open at the given numbers, the given cwd and environment
(nothing of the zygote's), then `child.main(ARGV)`, the entry both paths share.
Like child.py, it imports nothing from the judge.

A "script" child is a trusted helper of the judge (a Keras file loader, a TFLite
interpreter): what `python -I SCRIPT ARGV` would be, in a new session, with
stdin, stdout and stderr on the given fds, nothing else open, the given resource
limits, and TensorFlow already imported. It gets no sandbox: it runs no student
code, only reads files the judge hands it, and its limits and the judge's
deadline contain a crash or a hang.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import gc
import json
import os
import resource
import runpy
import select
import shutil
import signal
import socket
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import child  # noqa: E402  (the runner's own directory, nothing else)

del sys.path[0]

MAX_PACKET = 1 << 20
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE = 1, 4


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _send(sock: socket.socket, msg: dict) -> None:
    sock.send(json.dumps(msg).encode())


def _returncode(info: os.waitid_result) -> int:
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def _become_runner(req: dict, output_fd: int, fds: list[int], imported_env: dict[str, str]) -> None:
    """In the forked child: shed the zygote's session, fds, cwd and environment."""
    os.setsid()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # if the zygote dies, so do its runners
    _prctl(_PR_SET_DUMPABLE, 1)  # as a spawned runner is: the judge's watchdog reads its /proc files
    targets = [int(t) for t in req["fds"]]
    # Move what we were given above every target number, then put it in place.
    floor = max([*targets, 2]) + 1
    output_fd = fcntl.fcntl(output_fd, fcntl.F_DUPFD_CLOEXEC, floor)
    given = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, floor) for fd in fds]
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    for target, fd in zip(targets, given):
        os.dup2(fd, target, inheritable=False)
    keep = sorted({0, 1, 2, *targets})
    for low, high in zip(keep, [*keep[1:], 1 << 20]):
        os.closerange(low + 1, high)
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    os.environ.update(imported_env)  # what importing TensorFlow set, as in a spawned runner
    tempfile.tempdir = None  # re-read TMPDIR
    config = sys.modules.get("keras.src.backend.config")
    if config is not None and "KERAS_HOME" in os.environ:
        config._KERAS_DIR = os.environ["KERAS_HOME"]


def _become_script(req: dict, stdio: list[int], imported_env: dict[str, str]) -> None:
    """In the forked child: a trusted helper script's process, with its stdio and limits."""
    _become_runner({**req, "fds": [0, 1]}, stdio[2], stdio[:2], imported_env)
    os.set_inheritable(0, True)
    os.set_inheritable(1, True)
    for name, value in req.get("rlimits", {}).items():
        which = getattr(resource, name)
        hard = resource.getrlimit(which)[1]
        value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
        resource.setrlimit(which, (value, value))
    sys.argv = [req["script"], *req["argv"]]


def _run_script(req: dict) -> int:
    """Run the script to its end; its exit code, as `python script` would give it."""
    try:
        runpy.run_path(req["script"], run_name="__main__")
        return 0
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _fork(sock: socket.socket, req: dict, output_fd: int, fds: list[int], imported_env: dict[str, str]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        sock.detach()  # its fd number is about to be closed or reused
        if req["op"] == "script":
            _become_script(req, [output_fd, *fds], imported_env)
            code = _run_script(req)
        else:
            _become_runner(req, output_fd, fds, imported_env)
            child.main(req["argv"])  # serves, then os._exit(0)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        sys.stderr.flush()
        code = 1
    finally:
        os._exit(code)


def serve(sock: socket.socket, imported_env: dict[str, str]) -> None:
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    running: set[int] = set()
    try:
        while True:
            readable, _, _ = select.select([sock, wake_r], [], [])
            if wake_r in readable:
                while True:
                    try:
                        if not os.read(wake_r, 512):
                            break
                    except BlockingIOError:
                        break
            if sock in readable:
                data, fds, _, _ = socket.recv_fds(sock, MAX_PACKET, 64)
                if not data:
                    return  # the judge is gone
                req = json.loads(data)
                if (req.get("op") == "fork" and fds) or (req.get("op") == "script" and len(fds) == 3):
                    try:
                        pid = _fork(sock, req, fds[0], fds[1:], imported_env)
                    except OSError as e:  # out of memory or processes
                        _send(sock, {"failed": f"fork: {e}"})
                    else:
                        running.add(pid)
                        _send(sock, {"forked": pid})
                    finally:
                        for fd in fds:
                            os.close(fd)
                elif req.get("op") == "release":
                    try:
                        os.waitpid(int(req["pid"]), 0)
                    except ChildProcessError:
                        pass
            for pid in list(running):
                # Report an exit without reaping: the pid stays ours until the judge releases it.
                info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
                if info is not None:
                    running.discard(pid)
                    _send(sock, {"exited": pid, "returncode": _returncode(info)})
    finally:
        for pid in running:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--control-fd", type=int, required=True)
    a = p.parse_args(argv)
    # Runners of the same uid must not read or ptrace the zygote: it forks every other runner.
    _prctl(_PR_SET_DUMPABLE, 0)
    sock = socket.socket(fileno=a.control_fd)
    before = dict(os.environ)
    child._quiet_tensorflow()
    imported_env = {k: v for k, v in os.environ.items() if before.get(k) != v}
    child.sandbox.rootfs.remember_sources()  # each runner binds them into its own root
    # Everything imported so far lives as long as the zygote and its children: keep it out
    # of their garbage collections (faster, and fewer copy-on-write pages per child).
    gc.freeze()
    home = os.getcwd()
    try:
        serve(sock, imported_env)
    except (BrokenPipeError, ConnectionResetError):
        pass
    if os.path.basename(home).startswith("grader-zygote-"):  # the judge may have died without cleaning up
        shutil.rmtree(home, ignore_errors=True)
    os._exit(0)


if __name__ == "__main__":
    main()
