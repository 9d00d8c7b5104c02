"""Unpacking a submitted `.zip` safely.

A submission archive is untrusted: it may try to write outside its folder
(`../x`, `/etc/x`), smuggle a symlink, or expand into gigabytes. Each of
these is refused with an `ArchiveError` whose message is written for the
instructor reading the batch report. Extraction happens before any student
code runs, so these limits are the only thing standing between a zip and
the grading machine's disk.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

_CHUNK = 1 << 16


class ArchiveError(Exception):
    """A submission archive that cannot be unpacked safely; the message says why."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_files: int = 200
    max_total_bytes: int = 50 * 1024 * 1024
    max_archive_bytes: int = 20 * 1024 * 1024


def _member_path(info: zipfile.ZipInfo) -> PurePosixPath:
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"the archive holds an absolute path ({info.filename!r}); refusing to unpack it")
    if ".." in path.parts:
        raise ArchiveError(f"the archive holds a path that leaves its folder ({info.filename!r}); refusing to unpack it")
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip was not made on Unix
    if kind == stat.S_IFLNK:
        raise ArchiveError(f"the archive holds a symbolic link ({info.filename!r}); refusing to unpack it")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveError(f"the archive holds a special file ({info.filename!r}); refusing to unpack it")
    return path


def _ignored(path: PurePosixPath) -> bool:
    """macOS resource forks and hidden files are not part of a submission."""
    return any(part.startswith(".") or part == "__MACOSX" for part in path.parts)


def extract(archive: Path, dest: Path, limits: ArchiveLimits = ArchiveLimits()) -> Path:
    """Unpack `archive` into the empty or new directory `dest`; returns `dest`.

    Every member is validated before anything is written, and the byte count
    is enforced while writing too, since the sizes in a zip's directory are
    the sender's claim.
    """
    try:
        size = archive.stat().st_size
    except OSError as e:
        raise ArchiveError(f"cannot read the archive: {e.strerror}") from None
    if size > limits.max_archive_bytes:
        raise ArchiveError(f"the archive is {size} bytes; the limit is {limits.max_archive_bytes}")
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise ArchiveError(f"not a valid zip archive ({e})") from None
    with zf:
        members = [(info, _member_path(info)) for info in zf.infolist()]
        members = [(info, path) for info, path in members if not _ignored(path)]
        files = [(info, path) for info, path in members if not info.is_dir()]
        if len(files) > limits.max_files:
            raise ArchiveError(f"the archive holds {len(files)} files; the limit is {limits.max_files}")
        declared = sum(info.file_size for info, _ in files)
        if declared > limits.max_total_bytes:
            raise ArchiveError(f"the archive expands to {declared} bytes; the limit is {limits.max_total_bytes}")
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        written = 0
        for info, path in members:
            target = root.joinpath(*path.parts)
            if not target.resolve().is_relative_to(root):
                raise ArchiveError(f"the archive holds a path that leaves its folder ({info.filename!r})")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(_CHUNK):
                        written += len(chunk)
                        if written > limits.max_total_bytes:
                            raise ArchiveError(
                                f"the archive expands past {limits.max_total_bytes} bytes; refusing to unpack it"
                            )
                        out.write(chunk)
            except FileExistsError:
                raise ArchiveError(f"the archive holds {info.filename!r} twice") from None
            except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as e:
                raise ArchiveError(f"cannot unpack {info.filename!r}: {e}") from None
    return dest


def inspect(archive: Path | BinaryIO, limits: ArchiveLimits = ArchiveLimits()) -> list[PurePosixPath]:
    """The paths of the files `extract` would write, after the same checks, writing nothing.

    Every member is decompressed into nothing and counted, so a bomb whose directory
    lies about its sizes is stopped at `max_total_bytes`, in constant memory.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ArchiveError(f"not a valid zip archive ({e})") from None
    with zf:
        members = [(info, _member_path(info)) for info in zf.infolist()]
        files = [(info, path) for info, path in members if not _ignored(path) and not info.is_dir()]
        if len(files) > limits.max_files:
            raise ArchiveError(f"the archive holds {len(files)} files; the limit is {limits.max_files}")
        if sum(info.file_size for info, _ in files) > limits.max_total_bytes:
            raise ArchiveError(f"the archive expands to {sum(i.file_size for i, _ in files)} bytes; "
                               f"the limit is {limits.max_total_bytes}")  # fmt: skip
        seen: set[PurePosixPath] = set()
        read = 0
        for info, path in files:
            if path in seen:
                raise ArchiveError(f"the archive holds {info.filename!r} twice")
            seen.add(path)
            try:
                with zf.open(info) as src:
                    while chunk := src.read(_CHUNK):
                        read += len(chunk)
                        if read > limits.max_total_bytes:
                            raise ArchiveError(f"the archive expands past {limits.max_total_bytes} bytes; refusing to unpack it")
            except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as e:
                raise ArchiveError(f"cannot unpack {info.filename!r}: {e}") from None
    return [path for _, path in files]
