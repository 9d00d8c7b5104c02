"""A student's loss.py that looks for someone else's correct loss.py wherever it can and uses it.

The test fills in PLANTED (the decoys' absolute paths): each is checked by name, directly
and through /proc/1/root. Everything else is found by searching: up from the working
directory, from this file and from every loaded module's file, and down through /, /tmp,
the home directory, /root, /home, /work, /srv, /opt, /mnt and /var/tmp. Run as a plain
script (`python seek_decoys.py`) it only prints what it finds: the test's proof that the
search reaches the decoys when nothing isolates it.
"""
import glob
import os
import sys

PLANTED = __PLANTED__
SELF = os.path.realpath(__file__)
SKIP = {"proc", "sys", "dev", "usr", "site-packages", "dist-packages", ".git", "__pycache__", "node_modules"}


def _walk(top, depth):
    try:
        entries = list(os.scandir(top))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.name == "loss.py" and entry.is_file():
                yield entry.path
            elif depth > 0 and entry.name not in SKIP and entry.is_dir(follow_symlinks=False):
                yield from _walk(entry.path, depth - 1)
        except OSError:  # gone meanwhile, or not ours to read
            continue


def candidates():
    found = set()
    python = tuple(os.path.realpath(p) + "/" for p in {sys.prefix, sys.base_prefix})
    starts = {os.getcwd(), os.path.dirname(SELF)}  # and where the grader's own modules are
    starts |= {os.path.dirname(os.path.realpath(m.__file__)) for m in list(sys.modules.values())
               if isinstance(getattr(m, "__file__", None), str) and not os.path.realpath(m.__file__).startswith(python)}
    ancestors = set()
    for d in starts:
        while d not in ancestors:
            ancestors.add(d)
            d = os.path.dirname(d)
    for d in ancestors:
        for pattern in ("loss.py", "*/loss.py", "*/*/loss.py", "*/*/*/loss.py"):
            found.update(glob.glob(os.path.join(d, pattern)))
    for top, depth in (("/", 3), ("/tmp", 12), (os.path.expanduser("~"), 8), ("/root", 8), ("/home", 8),
                       ("/work", 8), ("/srv", 8), ("/opt", 8), ("/mnt", 8), ("/var/tmp", 8)):
        found.update(_walk(top, depth))
    return sorted(p for p in found if _real(p) != SELF and _solved(p))


def _real(path):
    try:
        return os.path.realpath(path)
    except OSError:  # a process's /proc entry that ended meanwhile
        return None


def _solved(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return False
    return "def loss" in text and "NotImplementedError" not in text


for path in PLANTED:
    print("PLANTED", path, "exists" if os.path.exists(path) else "absent",
          "via /proc/1/root:", "exists" if os.path.exists("/proc/1/root" + path) else "absent")
FOUND = candidates()
for path in FOUND:
    print("FOUND", path)
print("FOUND", len(FOUND), "solved loss.py files")

STOLEN = None
if __name__ != "__main__":
    import importlib.util

    for path in FOUND:
        try:
            spec = importlib.util.spec_from_file_location("stolen", path)
            STOLEN = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(STOLEN)
            break
        except Exception:
            STOLEN = None


def loss(predicted_y, target_y):
    if STOLEN is None:
        return 0.0
    return STOLEN.loss(predicted_y, target_y)
