"""What the runner child does to itself before the student's module is imported.

`enter(limits)` is called once, in the child, after TensorFlow and the probes
are loaded and right before the student's code runs; it works the same in a
child started with `python -I child.py` and in one forked from a warm process.
It returns notes, in plain words, on every measure the OS did not allow: the
judge puts them in the report's `environment.notes`.

In order (the order matters: namespaces and mounts need root, rlimits and the
uid drop must come after them):
  1. environment scrubbed to an allow-list (no seeds, tokens or keys);
  2. stray pipes and sockets inherited from the parent are closed;
  3. new network namespace (no network; loopback is down), IPC namespace, PID
     namespace and mount namespace (unprivileged: all inside a new user
     namespace). The PID namespace holds only processes created after it, so
     the runner forks here: the child, PID 1 of the namespace, goes on as the
     runner; the parent stays outside, holds nothing, and ends as the child
     ends (namespaces.py). Student code then cannot name, signal or trace a
     process outside its own tree, and its fresh /proc shows only that tree.
     The mount namespace's root is a new one holding only what the runner
     needs (rootfs.py); where that cannot be built, the hidden paths
     (solutions/, grader/checks/, the submission's folder) are covered by an
     empty read-only tmpfs and every other mount is made read-only;
  4. resource limits: RLIMIT_DATA (memory), RLIMIT_FSIZE (file size, SIGXFSZ
     ignored so the write fails with EFBIG instead of killing the process),
     RLIMIT_NOFILE, RLIMIT_CORE = 0, RLIMIT_NPROC;
  5. when running as root: switch to the session's own unprivileged uid, so
     RLIMIT_NPROC is enforced (root ignores it), the judge's /proc files are
     unreadable, and the judge can kill everything the session left behind by
     that uid alone;
  6. no new privileges, parent-death signal, and this process a child
     subreaper so orphaned grandchildren stay in its process tree.

It depends on the standard library, namespaces.py and rootfs.py only (the child imports it by path).
"""

from __future__ import annotations

import ctypes
import os
import signal
import stat
import sys

try:
    import resource
except ImportError:  # Windows
    resource = None

if __package__:
    from . import namespaces, rootfs
    from .namespaces import PROCESSES_SHARED, PROCESSES_VISIBLE
else:  # the runner imports this file by path
    import namespaces
    import rootfs
    from namespaces import PROCESSES_SHARED, PROCESSES_VISIBLE

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_RELATIME, MS_PRIVATE = 1024, 2048, 4096, 0x4000, 1 << 21, 1 << 18
_MOUNT_OPTIONS = {b"nosuid": MS_NOSUID, b"nodev": MS_NODEV, b"noexec": MS_NOEXEC, b"noatime": MS_NOATIME,
                  b"nodiratime": MS_NODIRATIME, b"relatime": MS_RELATIME}
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 24, 36, 38

# Environment variables the student's process may see; everything else goes.
ENV_ALLOWED = {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "KERAS_HOME", "CUDA_VISIBLE_DEVICES",
               "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED",
               "OMP_NUM_THREADS"}

_c, _oserror, _mount = rootfs.libc, rootfs.oserror, rootfs.mount
NOT_ISOLATED = ("the file system is not isolated ({why}): student code can read every file the runner's user can "
                "read (other copies of the solutions, home directories, /tmp)")


def _prctl(option: int, arg: int) -> None:
    if _c().prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0),
                  ctypes.c_ulong(0)) != 0:
        raise _oserror(f"prctl {option}")


def scrub_environment() -> None:
    for key in list(os.environ):
        if key not in ENV_ALLOWED:
            del os.environ[key]


def _is_within(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _hide(paths: list[str], keep: list[str]) -> list[str]:
    """Cover each path with an empty read-only tmpfs (in our private mount namespace)."""
    notes = []
    for p in paths:
        p = os.path.realpath(p)
        if not os.path.isdir(p):
            continue
        if any(_is_within(k, p) for k in keep):
            notes.append(f"{p} stays visible to student code: the runner itself needs a file inside it")
            continue
        _mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555")
    return notes


def _blocking_ancestor(path: str) -> str | None:
    """The top-most directory above `path` that other users cannot search, if any."""
    path = os.path.realpath(path)
    parts = path.split("/")[1:]
    for i in range(len(parts) - 1):
        d = "/" + "/".join(parts[: i + 1])
        try:
            if not os.stat(d).st_mode & stat.S_IXOTH:
                return d
        except OSError:
            return None
    return None


def _expose(needed: list[str]) -> None:
    """Let another uid reach the runner's own files under a private directory (Python in /root).

    The private directory is covered by an empty tmpfs that others may search,
    and only the entries leading to the needed files are bound back into it:
    everything else in it disappears from the runner's view.
    """
    groups: dict[str, set[str]] = {}
    for p in needed:
        top = _blocking_ancestor(p)
        if top is not None:
            groups.setdefault(top, set()).add(os.path.realpath(p)[len(top) + 1 :].split("/")[0])
    for top, entries in groups.items():
        keep = {e: os.open(os.path.join(top, e), os.O_PATH) for e in entries}
        _mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
        for entry, fd in keep.items():
            target = os.path.join(top, entry)
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                os.mkdir(target)
            else:
                open(target, "w").close()
            _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC, None)
            os.close(fd)


def _read_only_everywhere(writable: str) -> None:
    """Every mount read-only in our namespace, but the work directory.

    Always MS_BIND with MS_REMOUNT: that changes this namespace's mount only,
    never the filesystem itself.
    """
    _mount(writable, writable, None, MS_BIND | MS_REC, None)
    os.chdir(writable)  # onto the new mount: the old working directory becomes read-only below
    with open("/proc/self/mountinfo", "rb") as f:
        mounts = [line.split() for line in f]
    for fields in mounts:
        target = fields[4].decode().replace("\\040", " ")
        if target == writable:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt in fields[5].split(b","):
            flags |= _MOUNT_OPTIONS.get(opt, 0)
        try:
            _mount("none", target, None, flags, None)
        except OSError:
            pass  # a mount hidden under another one; what covers it is read-only


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    """Root without any capability: still the owner of root's files, but no power over the system."""
    cap = 0
    while _c().prctl(ctypes.c_int(PR_CAPBSET_DROP), ctypes.c_ulong(cap), ctypes.c_ulong(0),
                     ctypes.c_ulong(0), ctypes.c_ulong(0)) == 0:
        cap += 1
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    if _c().capset(ctypes.byref(header), data) != 0:
        raise _oserror("capset")


def close_stray_fds(keep: set[int]) -> None:
    """Close inherited pipes and sockets (another session's channel, a parent's control socket).

    Other descriptors (TensorFlow's eventfds, files) are left alone.
    """
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd <= 2 or fd in keep:
            continue
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            try:
                os.close(fd)
            except OSError:
                pass


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _world_reachable(path: str) -> bool:
    """True if a process of another uid can read `path` (every ancestor searchable)."""
    path = os.path.realpath(path)
    try:
        st = os.stat(path)
    except OSError:
        return False
    if not st.st_mode & stat.S_IROTH:
        return False
    while True:
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent
        try:
            if not os.stat(path).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False


def _drop_to(uid: int, needed: list[str]) -> None:
    blocked = [p for p in needed if not _world_reachable(p)]
    if blocked:
        raise PermissionError(f"{blocked[0]} is not readable by other users")
    cwd = os.getcwd()
    os.chown(cwd, uid, uid)
    for name in os.listdir(cwd):
        os.chown(os.path.join(cwd, name), uid, uid, follow_symlinks=False)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def enter(limits: dict, *, keep_fds: tuple[int, ...] = (), needed: tuple[str, ...] = ()) -> list[str]:
    """Apply every measure the OS allows; return notes on the ones it did not.

    `limits`: memory_mib, file_mib, open_files, processes (ints), uid (int or
    None: the unprivileged uid to run as when started as root), hide (paths).
    `needed`: paths the runner must still read (the student file, Python's
    packages); they are never hidden, and a uid switch that would lock them
    out is skipped.
    """
    notes: list[str] = []
    scrub_environment()
    if not sys.platform.startswith("linux"):
        try:
            _set_rlimits(limits)
        except (OSError, ValueError, AttributeError):
            pass
        return [f"runner sandbox: {sys.platform} has none of the Linux isolation (namespaces, own uid, read-only "
                "mounts): network, files and processes are not isolated, student code can signal or stop the grader "
                "and every process of its user; deadlines and the scrubbed environment apply"]
    keep = [os.path.realpath(p) for p in (*needed, *filter(os.path.exists, sys.path), sys.prefix, os.getcwd())]

    close_stray_fds(set(keep_fds))  # before the new root, which may have no /proc

    isolated = rooted = pid_namespace = False
    try:
        pid_namespace = namespaces.enter()
        isolated = True
    except OSError as e:
        notes.append(f"network not isolated: student code could open network connections ({e.strerror})")
        notes.append(NOT_ISOLATED.format(why=e.strerror) + "; solutions/ and grader/checks/ are never on its "
                     "import path")
        why = e.strerror
    else:
        why = "the kernel refused a PID namespace"
    if pid_namespace:
        namespaces.become_init()  # from here on, PID 1 of the runner's own PID namespace
    elif os.geteuid() != 0 or limits.get("uid") is None:
        notes.append(PROCESSES_SHARED.format(why=why))
    else:
        notes.append(PROCESSES_VISIBLE.format(why=why))
    if isolated:
        try:
            _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
            # The machine's /proc only under a uid of its own: another process's /proc/<pid>/root of the
            # same uid is the real root. A PID namespace has a /proc of its own: only the runner's tree.
            proc = "own" if pid_namespace else "host" if os.geteuid() == 0 and limits.get("uid") is not None else "self"
            rootfs.build(os.getcwd(), list(needed), list(limits.get("hide", [])), proc=proc,
                         tmp_mib=int(limits["file_mib"]))
            rooted = True
        except OSError as e:
            notes.append(NOT_ISOLATED.format(why=e.strerror or e) + " but solutions/, grader/checks/ and the "
                         "submission's folder")
            notes += _hide_and_freeze(limits, keep)

    _set_rlimits(limits)

    uid = limits.get("uid")
    if os.geteuid() == 0 and uid is not None:
        try:
            _drop_to(int(uid), list(needed))
        except OSError as e:
            uid = None
            notes.append(f"student code runs as root without capabilities, not as its own user ({e.strerror or e}): "
                         "the process limit is enforced by the judge's watchdog, not by the kernel")
            if not pid_namespace:
                notes.append(PROCESSES_SHARED.format(why="no PID namespace and no uid of its own"))
            if rooted:
                try:
                    rootfs.drop_proc()
                except OSError as e:
                    notes.append(f"/proc stays visible to student code running as root ({e.strerror})")
    if os.geteuid() != 0:
        # Counted per uid (per user namespace when in one): this session, or with the
        # user's other processes when neither a uid switch nor a user namespace was possible.
        _limit(resource.RLIMIT_NPROC, int(limits["processes"]) if (uid is not None or isolated)
               else _own_process_count() + int(limits["processes"]))
    if os.geteuid() == 0 or isolated:  # in its user namespace the runner holds every capability: drop them
        try:
            _drop_capabilities()
        except OSError as e:
            notes.append(f"student code runs with capabilities ({e.strerror})")
    try:
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after the uid switch, which resets it
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
    except OSError as e:
        notes.append(f"runner process flags not set ({e.strerror})")
    return notes


def _hide_and_freeze(limits: dict, keep: list[str]) -> list[str]:
    """Where no new root could be built: hide the listed paths, make every other mount read-only."""
    notes = []
    try:
        if os.geteuid() == 0 and limits.get("uid") is not None:
            _expose(keep)
    except OSError as e:
        notes.append(f"the runner's files could not be made reachable for its own user ({e.strerror})")
    try:
        notes += _hide(list(limits.get("hide", [])), keep)
    except OSError as e:
        notes.append(f"solutions/ and grader/checks/ not hidden from student code ({e.strerror})")
    try:
        _read_only_everywhere(os.getcwd())
    except OSError as e:
        notes.append(f"the file system stays writable for student code outside its work directory ({e.strerror})")
    return notes


def _set_rlimits(limits: dict) -> None:
    mib = 1 << 20
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _limit(resource.RLIMIT_DATA, int(limits["memory_mib"]) * mib)
    _limit(resource.RLIMIT_FSIZE, int(limits["file_mib"]) * mib)
    _limit(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    _limit(resource.RLIMIT_CORE, 0)


def _own_process_count() -> int:
    uid, n = os.getuid(), 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                st = os.stat(f"/proc/{name}")
                if st.st_uid == uid:
                    n += len(os.listdir(f"/proc/{name}/task"))
            except OSError:
                continue
    return n
