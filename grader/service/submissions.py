"""A submission request: its fields checked, its files checked and stored durably.

Nothing here unpacks an archive: a zip is inspected in memory with the same checks
`grade batch` applies (`grader.archive.inspect`: traversal, links, special files,
counts, sizes, a bomb stopped while counting its bytes), and stored as sent; the
worker unpacks it with `grader.archive.extract`. What was sent is stored in the
database with the submission's row, in the same commit (one fsync), and written
out to a scratch folder only when a worker is about to grade it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import time
import uuid
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from grader import archive, catalog
from grader.service.errors import ApiError
from grader.service.store import Conflict

LIMITS = archive.ArchiveLimits()


class SubmissionIn(BaseModel):
    """The body of `POST /v1/submissions`."""

    model_config = ConfigDict(extra="forbid")
    files: dict[str, str] | None = Field(None, description="student files by path, e.g. {\"loss.py\": \"...\"}")
    archive: str | None = Field(None, description="base64 of a .zip (or an .ipynb) of the submission")
    # Strict: `true` or "1" is not an exercise number, "12" not a seed.
    exercises: list[StrictInt] | None = Field(None, description="exercise numbers to grade; default: all")
    seed: StrictInt | None = Field(None, description="seed for the hidden inputs; default: the course's")
    external_id: str | None = Field(None, min_length=1, max_length=200,
                                    description="your id for it: the same key and external_id give the same submission")
    callback_url: str | None = Field(None, max_length=2000, description="an http(s) URL the finished object is POSTed to")
    metadata: dict | None = Field(None, description="anything of yours, echoed back; at most 4 KiB as JSON")


def _invalid(code: str, message: str) -> ApiError:
    return ApiError(422, code, message)


def check_fields(body: SubmissionIn, metadata_bytes: int) -> list[int] | None:
    """The exercises to grade (None: all); ApiError 422 for what cannot be graded."""
    if (body.files is None) == (body.archive is None):
        raise _invalid("invalid", "give exactly one of 'files' and 'archive'")
    for name in ("files", "archive", "external_id", "callback_url", "metadata"):
        try:  # Python's JSON reader takes NaN and lone surrogates; storing or answering them would fail later
            json.dumps(getattr(body, name), ensure_ascii=False, allow_nan=False).encode()
        except ValueError:
            raise _invalid("invalid", f"'{name}' holds NaN, Infinity or a lone surrogate (\\ud800-\\udfff): "
                           "send standard JSON with valid Unicode text") from None
    if body.metadata is not None and len(json.dumps(body.metadata).encode()) > metadata_bytes:
        raise _invalid("metadata_too_large", f"'metadata' is larger than {metadata_bytes} bytes as JSON")
    if body.seed is not None and not 0 <= body.seed < 2**63:
        raise _invalid("invalid", "'seed' must be a non-negative integer that fits in 63 bits")
    if body.exercises is None:
        return None
    if not body.exercises:
        raise _invalid("invalid", "'exercises' is empty; leave it out to grade every exercise")
    try:
        return sorted({catalog.exercise(n).id for n in body.exercises})
    except catalog.CatalogError as e:
        raise _invalid("unknown_exercise", str(e)) from None


def request_hash(body: SubmissionIn, exercises: list[int] | None) -> str:
    """What makes two requests with one external_id the same submission."""
    parts = {"files": body.files, "archive": body.archive, "exercises": exercises, "seed": body.seed,
             "callback_url": body.callback_url, "metadata": body.metadata}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _has_student_file(paths: list[PurePosixPath], exercises: list[int] | None) -> bool:
    """Name-only version of `grader.submission.locate` (with the wrapping-folder rule of `_root`)."""
    chosen = catalog.select(exercises)
    slugs = {ex.slug for ex in catalog.exercises()}
    while paths and len({p.parts[0] for p in paths}) == 1 and all(len(p.parts) > 1 for p in paths) \
            and paths[0].parts[0] not in slugs:
        paths = [PurePosixPath(*p.parts[1:]) for p in paths]
    names = {p.as_posix() for p in paths}
    notebooks = any(p.suffix == ".ipynb" for p in paths)  # searched for the functions when graded
    return notebooks or any(f"{ex.slug}/{ex.file}" in names or ex.file in names for ex in chosen)


def _file_paths(files: dict[str, str]) -> list[PurePosixPath]:
    if len(files) > LIMITS.max_files:
        raise _invalid("too_many_files", f"'files' holds {len(files)} files; the limit is {LIMITS.max_files}")
    paths = []
    for name in files:
        path = PurePosixPath(name)
        if not name or "\\" in name or "\0" in name or path.is_absolute() or ".." in path.parts \
                or name.endswith("/") or any(p in ("", ".") for p in name.split("/")):
            raise _invalid("unsafe_path", f"'files' holds a path that is not a plain relative path: {name!r}")
        paths.append(path)
    folders = {parent for path in paths for parent in path.parents}
    clash = next((path for path in paths if path in folders), None)
    if clash is not None:
        raise _invalid("unsafe_path", f"'files' uses {clash.as_posix()!r} both as a file and as a folder")
    total = sum(len(s.encode()) for s in files.values())
    if total > LIMITS.max_total_bytes:
        raise _invalid("too_large", f"'files' holds {total} bytes; the limit is {LIMITS.max_total_bytes}")
    return paths


def _is_notebook(data: bytes) -> bool:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and "cells" in doc and "nbformat" in doc


def decode_archive(text: str) -> tuple[bytes, str]:
    """The archive's bytes and its kind, `zip` or `ipynb`; ApiError 422 when unusable."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("bad_archive", "'archive' is not valid base64") from None
    if data[:2] == b"PK":
        return data, "zip"
    if _is_notebook(data):
        return data, "ipynb"
    raise _invalid("bad_archive", "'archive' is neither a .zip nor an .ipynb notebook")


def check_archive(data: bytes, exercises: list[int] | None) -> None:
    try:
        paths = archive.inspect(io.BytesIO(data), LIMITS)
    except archive.ArchiveError as e:
        raise _invalid("unsafe_archive" if "refusing" in str(e) or "limit" in str(e) else "bad_archive",
                       f"the archive cannot be graded: {e}") from None
    if not _has_student_file(paths, exercises):
        raise _invalid("no_student_file", _no_file_message(exercises))


def check_notebook(data: bytes, exercises: list[int] | None) -> None:
    """A notebook must be readable and define a function of an exercise asked for (`grader.notebook.submission`)."""
    from grader.notebook import extract, ipynb

    try:
        scanned = extract.scan(ipynb.code_cells(data, "the notebook"))
    except ipynb.NotebookError as e:
        raise _invalid("bad_archive", f"the archive cannot be graded: {e}") from None
    chosen = catalog.select(exercises)
    if not any(f in scanned.chunks or f in scanned.broken for ex in chosen for f in ex.functions):
        wanted = "; ".join(", ".join(f"{f}()" for f in ex.functions) for ex in chosen)
        raise _invalid("no_student_file", f"the notebook defines none of the functions of the exercises asked for: {wanted}")


def _no_file_message(exercises: list[int] | None) -> str:
    chosen = catalog.select(exercises)
    wanted = ", ".join(f"{ex.file} (or {ex.slug}/{ex.file})" for ex in chosen)
    return f"the submission holds no student file of the exercises asked for: {wanted}"


def check_files(files: dict[str, str], exercises: list[int] | None) -> None:
    paths = _file_paths(files)
    if not _has_student_file(paths, exercises):
        raise _invalid("no_student_file", _no_file_message(exercises))


# ---------------------------------------------------------------- payloads


def payload(body: SubmissionIn, archive_bytes: tuple[bytes, str] | None) -> tuple[str, bytes]:
    """What is stored in the database for a submission: (kind, bytes), committed with its row."""
    if archive_bytes is not None:
        data, kind = archive_bytes
        return kind, data
    return "files", json.dumps(body.files or {}).encode()


def materialize(kind: str, data: bytes, folder: Path) -> Path:
    """Write a stored payload under `folder` (new) for a worker; the path to grade."""
    folder.mkdir(parents=True)
    if kind != "files":
        target = folder / f"submission.{kind}"
        target.write_bytes(data)
        return target
    target = folder / "files"
    for name, text in json.loads(data).items():
        path = target.joinpath(*PurePosixPath(name).parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    target.mkdir(exist_ok=True)
    return target


def same(old, rhash: str):
    if old["request_hash"] != rhash:
        raise ApiError(409, "conflict", f"external_id '{old['external_id']}' was used for submission '{old['id']}' "
                       "with other content; use a new external_id for new content")
    return old


def create(store, key_name: str, body: SubmissionIn, exercises, rhash: str, received: float):
    """Check what was sent, then commit the row and the payload together (durable before the answer).

    Every door that creates a submission (`POST /v1/submissions`, an LTI upload) comes through here.
    Returns (row, created): the existing row when a repeated `external_id` brings the same content.
    """
    if body.archive is not None:
        data = decode_archive(body.archive)
        if data[1] == "zip":
            check_archive(data[0], exercises)
        else:
            check_notebook(data[0], exercises)
    else:
        data = None
        check_files(body.files or {}, exercises)
    row = {"id": uuid.uuid4().hex, "key_name": key_name, "external_id": body.external_id, "request_hash": rhash,
           "status": "queued", "exercises": json.dumps(exercises) if exercises else None, "seed": body.seed,
           "metadata": json.dumps(body.metadata or {}), "received_at": received, "created_at": time.time(),
           "callback_url": body.callback_url}
    try:
        return store.create(row, payload(body, data))
    except Conflict:
        old = store.by_external_id(key_name, body.external_id)
        return same(old, rhash), False
