"""The runner's own root file system: an allow-list of paths, bound from the real one.

`build(work, needed, ...)` runs in the runner, in the fresh mount namespace that
sandbox.enter() created (as root, or inside a user namespace), before any student
code. It mounts an empty tmpfs, binds into it, read-only and at their usual paths,
only what the runner needs:
  - the system's programs and libraries: /usr and the /bin, /lib... beside it;
  - a few files of /etc (the dynamic loader's cache, passwd, group, hosts...);
  - Python's installation (its prefixes and site-packages) and every shared library
    the process has mapped (TensorFlow's, wherever they live);
  - `needed`: the runner's own files (grader/runner/, never the rest of the grader);
  - /dev/null, zero, full, random, urandom;
  - /proc, by `proc`: "own", a fresh /proc of the runner's own PID namespace (only
    its own process tree is in it); "host", the machine's (root without a PID
    namespace: the runner then has its own uid, so no other process's
    /proc/<pid>/root is open to it); "self", only its own /proc/self and the
    system-wide figures (a runner of the user's uid, without a PID namespace);
plus, writable: the work directory and a private /tmp and /dev/shm (tmpfs of
`tmp_mib`). Then pivot_root into it and detach the old root. Nothing else of the
machine (the grader's repository, home directories, the batch directory, the real
/tmp) exists any more for the process. Paths in `hide` that fall inside a bound
directory (solutions shipped in site-packages, say) are covered by an empty tmpfs.

Bind mounts copy nothing: building the root costs a few milliseconds.
It depends on the standard library only (the runner imports it by path).
"""

from __future__ import annotations

import ctypes
import os
import stat
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_RELATIME = 1024, 2048, 4096, 0x4000, 1 << 21
MNT_DETACH = 2
# statvfs flags -> the mount flags a read-only remount must keep (a user namespace may not drop them)
_KEEP_FLAGS = {os.ST_NOSUID: MS_NOSUID, os.ST_NODEV: MS_NODEV, os.ST_NOEXEC: MS_NOEXEC,
               os.ST_NOATIME: MS_NOATIME, os.ST_NODIRATIME: MS_NODIRATIME, os.ST_RELATIME: MS_RELATIME}

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC = ("ld.so.cache", "ld.so.conf", "passwd", "group", "hosts", "nsswitch.conf", "localtime")
PROC_FILES = ("cpuinfo", "meminfo", "stat", "loadavg", "uptime", "version")
DEVICES = ("null", "zero", "full", "random", "urandom")
DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
             "stderr": "/proc/self/fd/2"}

_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def oserror(what: str) -> OSError:
    e = ctypes.get_errno()
    return OSError(e, f"{what}: {os.strerror(e)}")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    if libc().mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                    ctypes.c_ulong(flags), data.encode() if data else None) != 0:
        raise oserror(f"mount {target}")


def _umount(target: str) -> None:
    if libc().umount2(target.encode(), ctypes.c_int(MNT_DETACH)) != 0:
        raise oserror(f"umount {target}")


_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "i686": 217, "armv7l": 218, "ppc64le": 203,
                   "s390x": 217}


def _pivot_root(new: str, old: str) -> None:
    number = _SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(0, f"pivot_root: unknown system call number on {os.uname().machine}")
    if libc().syscall(ctypes.c_long(number), new.encode(), old.encode()) != 0:
        raise oserror("pivot_root")


def _within(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def python_dirs() -> list[str]:
    """Where this Python's standard library and packages live (not sys.path: it may name the grader's repo)."""
    if "python_dirs" in _remembered:
        return _remembered["python_dirs"]
    import site
    import sysconfig

    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    dirs.update(v for k, v in sysconfig.get_paths().items() if k in ("stdlib", "platstdlib", "purelib", "platlib"))
    try:
        dirs.update(site.getsitepackages())
    except AttributeError:  # an old virtualenv's site module
        pass
    return sorted(d for d in dirs if os.path.isdir(d))


_remembered: dict[str, list[str]] = {}


def remember_sources() -> None:
    """Find Python's directories and the mapped files once, in a warm process (the zygote):
    its forks have the same. Reading /proc/self/maps after TensorFlow is loaded takes ~10 ms."""
    _remembered["python_dirs"] = python_dirs()
    _remembered["mapped_files"] = mapped_files()


def mapped_files() -> list[str]:
    """Files mapped into this process (shared libraries, TensorFlow's among them)."""
    if "mapped_files" in _remembered:
        return _remembered["mapped_files"]
    found = set()
    with open("/proc/self/maps", "rb") as f:
        for line in f:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].startswith(b"/"):
                path = fields[5].rstrip(b"\n").decode(errors="surrogateescape")
                if not path.endswith(" (deleted)") and not path.startswith("/dev/"):
                    found.add(path)
    return sorted(p for p in found if os.path.isfile(p))


def plan(work: str, needed: list[str], hide: list[str], *, proc: str, tmp_mib: int) -> list[tuple[str, str, str]]:
    """The new root's mounts, parents first: (target, kind, source); kind: ro, rw, tmpfs, hidden, link, procfs."""
    ro: list[str] = []
    for path in sorted({os.path.realpath(p) for p in [*python_dirs(), *needed]}):
        if os.path.exists(path) and not any(_within(path, d) for d in ro):
            ro.append(path)
    steps: list[tuple[str, str, str]] = []
    for top in SYSTEM:
        if os.path.islink(top):
            steps.append((top, "link", os.readlink(top)))
        elif os.path.isdir(top) and not any(_within(top, d) for d in ro):
            ro = [d for d in ro if not _within(d, top)] + [top]
    ro += [p for p in mapped_files() if not any(_within(p, d) for d in ro) and not _within(p, work)]
    steps += [(p, "ro", p) for p in ro if not _within(p, work)]
    steps += [(f"/etc/{name}", "ro", os.path.realpath(f"/etc/{name}")) for name in ETC
              if os.path.isfile(f"/etc/{name}")]
    steps.append(("/dev", "tmpfs", "size=64k,mode=0755"))
    steps += [(f"/dev/{name}", "dev", f"/dev/{name}") for name in DEVICES if os.path.exists(f"/dev/{name}")]
    steps += [(f"/dev/{name}", "link", target) for name, target in DEV_LINKS.items()]
    steps.append(("/dev/shm", "tmpfs", f"size={tmp_mib}m,mode=1777"))
    steps.append(("/tmp", "tmpfs", f"size={tmp_mib}m,mode=1777"))
    if proc == "own":
        steps.append(("/proc", "procfs", ""))
    elif proc == "host":
        steps.append(("/proc", "proc", "/proc"))
    else:
        steps += _proc_self()
    steps.append((work, "rw", work))
    for h in {os.path.realpath(p) for p in hide}:
        if os.path.isdir(h) and any(_within(h, d) and h != d for d in ro) and not _within(work, h):
            steps.append((h, "hidden", ""))
    return sorted(steps)


def _proc_self() -> list[tuple[str, str, str]]:
    """Its own /proc/self (TensorFlow reads /proc/self/exe) and the system-wide figures, nobody else's."""
    me = os.readlink("/proc/self")  # the pid in the machine's /proc (not os.getpid() in a PID namespace)
    return [("/proc", "tmpfs", "size=4k,mode=0555"), ("/proc/self", "proc", f"/proc/{me}"),
            *((f"/proc/{name}", "proc", f"/proc/{name}") for name in PROC_FILES if os.path.exists(f"/proc/{name}"))]


def _flags_of(path: str) -> int:
    f = os.statvfs(path).f_flag
    return sum(ms for st, ms in _KEEP_FLAGS.items() if f & st)


def _make_target(target: str, source_is_dir: bool) -> None:
    if source_is_dir:
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if not os.path.exists(target):
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))


def build(work: str, needed: list[str], hide: list[str], *, proc: str, tmp_mib: int) -> None:
    """Make the allow-listed tree the process's root; the working directory stays `work`.

    The new root is staged on a tmpfs mounted over `work` itself (so nothing is made on the
    real file system); the real `work` is bound back in through a descriptor opened first.
    """
    work = os.path.realpath(work)
    steps = plan(work, needed, hide, proc=proc, tmp_mib=tmp_mib)
    work_fd = os.open(work, os.O_PATH | os.O_DIRECTORY)
    old_umask = os.umask(0o022)
    staged = False
    try:
        mount("tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
        staged = True
        for target, kind, source in steps:
            _step(work + target, kind, f"/proc/self/fd/{work_fd}" if kind == "rw" else source)
        os.chdir(work)
        _pivot_root(".", ".")
        _umount(".")  # the old root, stacked on the new one by pivot_root(".", ".")
    except BaseException:
        if staged and os.getcwd() != "/":
            try:
                _umount(work)
            except OSError:
                pass
        raise
    finally:
        os.umask(old_umask)
        os.close(work_fd)
    os.chdir(work)


def _step(target: str, kind: str, source: str) -> None:
    if kind == "link":
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        os.symlink(source, target)
    elif kind == "tmpfs":
        os.makedirs(target, mode=0o755, exist_ok=True)
        mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, source)
    elif kind == "procfs":
        os.makedirs(target, mode=0o755, exist_ok=True)
        try:  # this process's PID namespace's own /proc
            mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        except OSError:  # refused where the machine's /proc is partly covered (some containers)
            root = target[: -len("/proc")]
            for sub_target, sub_kind, sub_source in _proc_self():
                _step(root + sub_target, sub_kind, sub_source)
    elif kind == "hidden":
        mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555")
    else:  # a bind: ro, rw, dev, proc
        _make_target(target, stat.S_ISDIR(os.stat(source).st_mode))
        # Not recursive for the work directory: the staging tmpfs on top of it would come along.
        mount(source, target, None, MS_BIND if kind == "rw" else MS_BIND | MS_REC, None)
        if kind == "ro":
            mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _flags_of(target), None)


def drop_proc() -> None:
    """Detach /proc from the new root (the runner could not get a uid of its own)."""
    _umount("/proc")
