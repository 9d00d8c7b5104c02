"""The runner's own namespaces: network, IPC, mount and PID (unprivileged: inside a user namespace).

`enter()` unshares them in the runner, before its new root is built (sandbox.enter);
an unprivileged runner makes its user namespace first, with `enter_user()`, before it
imports TensorFlow: the kernel gives one only to a single-threaded process.
A PID namespace holds only the processes created after it, so `become_init()` then
forks: the child is PID 1 of the namespace and goes on as the runner; the parent,
the warden, stays outside where nothing inside can name it, holds nothing, waits,
and ends as the runner ended, so the judge and the zygote see one process as before.
In the namespace, `kill(-1)`, `kill(pid)`, `ptrace` and `process_vm_readv` reach only
the runner's own tree; PID 1 receives from inside only the signals it handles (not
SIGKILL or SIGSTOP); and when it dies the kernel kills the rest of the namespace.

`processes_reach_grader()` tells the judge's side (`grade batch`) beforehand whether
student code could reach the grader on this machine. It depends on the standard
library only and imports on every platform (the runner imports it by path).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _unshare(flags: int) -> None:
    if _libc().unshare(ctypes.c_int(flags)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"unshare: {os.strerror(e)}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


PROCESSES_SHARED = ("processes not isolated ({why}): student code runs as the grader's own user and can signal, "
                    "stop or trace the grader and every other process of that user")
PROCESSES_VISIBLE = ("processes not isolated ({why}): student code can list the machine's processes and their "
                     "command lines")


_own_user_namespace = False  # made by enter_user(), early


def enter_user() -> None:
    """Unprivileged, on Linux: the runner's user namespace, made while the process is still
    single-threaded (the kernel requires it; importing TensorFlow starts threads). Where it is
    refused, nothing happens here: enter() tries again and the sandbox says what is missing."""
    global _own_user_namespace
    if not sys.platform.startswith("linux") or os.geteuid() == 0 or _own_user_namespace:
        return
    uid, gid = os.geteuid(), os.getegid()
    try:
        _unshare(CLONE_NEWUSER)
    except OSError:
        return
    _own_user_namespace = True
    _map(uid, gid)


def _map(uid: int, gid: int) -> None:
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError:
        pass  # a policy that allows the namespace but no power in it: the mounts fail and say so later


def enter() -> bool:
    """New network, IPC, mount and (if the kernel allows) PID namespaces; unprivileged: in a user namespace.

    Returns whether the PID namespace was made: the next child is then its PID 1.
    Raises OSError when not even the network and mount namespaces could be made.
    """
    private = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC
    user = os.geteuid() != 0 and not _own_user_namespace
    uid, gid = os.geteuid(), os.getegid()
    try:  # unshare() changes all or nothing
        _unshare(private | CLONE_NEWPID | (CLONE_NEWUSER if user else 0))  # NEWUSER fails when multi-threaded
        pid_namespace = True
    except OSError:
        _unshare(private | (CLONE_NEWUSER if user else 0))
        pid_namespace = False
    if user:
        _map(uid, gid)
    return pid_namespace


def become_init() -> None:
    """Fork into the new PID namespace: the child returns, as its PID 1; this process becomes the warden.

    PID 1 of a namespace receives no signal from inside it that it has no handler
    for (not even SIGKILL or SIGSTOP), and when it dies the kernel kills everything
    else in the namespace: the judge's kill of the runner is the kill of the tree.
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    child = os.fork()
    if child == 0:
        os.setsid()  # out of the warden's process group: kill(0, ...) from inside reaches only the namespace
        _libc().prctl(ctypes.c_int(PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0),
                      ctypes.c_ulong(0), ctypes.c_ulong(0))
        return
    _warden(child)


def _warden(child: int) -> None:
    """Outside the runner's PID namespace, where nothing inside can name it: wait for the runner and
    end as it ended (same exit code, or killed by the same signal), so the judge sees no difference."""
    import resource

    code = 70
    try:
        os.closerange(0, 1 << 20)  # the runner's pipes close when the runner goes, not later
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            signal.signal(-code, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [-code])
            os.kill(os.getpid(), -code)
            code = 128 - code
    finally:
        os._exit(code)


def processes_reach_grader() -> str | None:
    """Why student code could signal, stop or trace the grader on this machine, or None when it cannot.

    Linux as root: each runner has a PID namespace and a uid of its own. As another user:
    only if the kernel lets it make a user namespace with a PID namespace in it (tried
    in a child process, as a runner would).
    """
    if not sys.platform.startswith("linux"):
        return f"{sys.platform} has no PID namespaces: student code runs as your user"
    if os.geteuid() == 0:
        return None
    if _REACH_CACHE:
        return _REACH_CACHE[0]
    pid = os.fork()
    if pid == 0:
        try:
            _unshare(CLONE_NEWUSER | CLONE_NEWPID)
            os._exit(0)
        except OSError as e:
            os._exit(e.errno or 1)
        finally:
            os._exit(1)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    _REACH_CACHE.append(None if code == 0 else
                        f"the kernel refuses this user a user namespace ({_why_refused(code)}), so a runner "
                        "cannot have a PID namespace of its own: student code runs as your user")
    return _REACH_CACHE[0]


def _why_refused(code: int) -> str:
    """The unshare error, and the setting that explains it, when one does."""
    why = os.strerror(code) if code > 0 else f"exit {code}"
    for path, refusing in (("/proc/sys/kernel/unprivileged_userns_clone", "0"),
                           ("/proc/sys/user/max_user_namespaces", "0")):
        try:
            with open(path) as f:
                if f.read().strip() == refusing:
                    why += f"; {path[len('/proc/sys/'):].replace('/', '.')} = {refusing}"
        except OSError:
            pass
    return why


_REACH_CACHE: list[str | None] = []
