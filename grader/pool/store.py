"""The durable store of finished reports, shared by `grade batch` and the warm-worker pool.

A finished report is written atomically (temporary file, fsync, rename, fsync of
the directory) under a key made of the submission's content hash, the grader
version, the seed and the exercises, so a run interrupted by Ctrl-C or kill -9
and run again grades only what is missing or changed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from grader import __version__, catalog
from grader.report import Report

_UMASK = os.umask(0o022)
os.umask(_UMASK)


class StoreBusy(Exception):
    """Another process holds the store's directory."""


def content_hash(path: Path) -> str:
    """sha256 over a submission's files: names and bytes, hidden files and caches left out."""
    h = hashlib.sha256()
    if path.is_file():
        h.update(b"zip\0")
        with open(path, "rb") as f:
            while chunk := f.read(1 << 16):
                h.update(chunk)
        return h.hexdigest()
    h.update(b"dir\0")
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            if name.startswith("."):
                continue
            full = Path(root, name)
            rel = full.relative_to(path).as_posix().encode()
            h.update(len(rel).to_bytes(4, "big") + rel)
            if full.is_symlink():
                h.update(b"link\0" + os.readlink(full).encode())
                continue
            try:
                data = full.read_bytes()
            except OSError as e:
                data = f"unreadable: {e.strerror}".encode()
            h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def effective_seed(seed: int | None) -> int:
    return catalog.course().seed if seed is None else seed


def job_key(content: str, exercises: Sequence[int] | None, seed: int | None) -> str:
    """What a stored report depends on. The secret seed enters only as a hash."""
    secret = os.environ.get(catalog.course().secret_seed_env, "")
    parts = {
        "content": content,
        "grader_version": __version__,
        "seed": effective_seed(seed),
        "exercises": sorted(exercises) if exercises is not None else "all",
        "secret_seed": hashlib.sha256(secret.encode()).hexdigest()[:16] if secret else None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves either the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def safe_name(submission_id: str) -> str:
    """A file name for an id, readable and unique (ids differing only in odd characters stay apart)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", submission_id)[:80]
    return f"{safe}-{hashlib.sha256(submission_id.encode()).hexdigest()[:12]}"


class Store:
    """Finished reports, one file per submission id: `{"key": ..., "report": {...}}`.

    One file per id means a submission is never counted twice, and a report
    graded under another key (changed files, another seed or version) is
    simply replaced.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.reports = directory / "reports"
        self.scratch = directory / "tmp"
        self.logs = directory / "logs"

    def open(self) -> "Store":
        """Take the state directory for this batch; StoreBusy if another batch is using it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.directory / "lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise StoreBusy(f"another grade batch is using {self.directory}; wait for it or give --state") from None
        self.reports.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.scratch.mkdir(parents=True, exist_ok=True)
        for leftover in self.scratch.iterdir():
            leftover.unlink(missing_ok=True)
        return self

    def close(self) -> None:
        self._lock.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _file(self, submission_id: str) -> Path:
        return self.reports / f"{safe_name(submission_id)}.json"

    def get(self, submission_id: str, key: str) -> Report | None:
        try:
            record = json.loads(self._file(submission_id).read_text(encoding="utf-8"))
            if record.get("key") != key or record.get("id") != submission_id:
                return None
            return Report.model_validate(record["report"])
        except (OSError, ValueError, KeyError, ValidationError):
            return None

    def put(self, submission_id: str, key: str, report: Report) -> None:
        record = {"id": submission_id, "key": key, "report": report.model_dump(mode="json")}
        atomic_write(self._file(submission_id), json.dumps(record))
