"""Reading what `grade batch` wrote: its jsonl output or its `--state` directory.

Nothing is graded again. A line that cannot be used (not JSON, not a report, another
schema version) is counted and named on the page when the rest is usable; input that is
not a batch's output at all is a `ReportInputError`: one line, exit 2.
"""

from __future__ import annotations

import csv
import fcntl
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_VERSION = 1
_STATUSES = {"passed", "failed", "error", "missing", "not_attempted"}


class ReportInputError(Exception):
    """Input that is not a batch's output, or a roster that does not fit it; the message says what to give."""


@dataclass
class Loaded:
    reports: list[dict]
    problems: list[str] = field(default_factory=list)  # lines or files left out, and why
    partial: bool = False  # the batch that writes this state directory is still running
    submissions_dir: Path | None = None  # where the batch read the submissions, when known


def _check_report(obj: object) -> str | None:
    """Why `obj` is not a usable report, or None."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    version = obj.get("schema_version")
    if version != SCHEMA_VERSION:
        return f"schema_version {version!r}, this grader reads {SCHEMA_VERSION}"
    if not isinstance(obj.get("submission"), str) or not obj["submission"]:
        return "no submission id"
    if not isinstance(obj.get("exercises"), list):
        return "no exercises"
    for ex in obj["exercises"]:
        if not isinstance(ex, dict) or ex.get("status") not in _STATUSES or not isinstance(ex.get("checks"), list):
            return "an exercise without a known status or a list of checks"
        if not isinstance(ex.get("id"), int) or not isinstance(ex.get("max_score"), (int, float)):
            return "an exercise without an id or max_score"
    return None


def _collect(items: list[tuple[str, object]], source: Path, problems: list[str]) -> list[dict]:
    """The usable reports of `items` ((where, parsed object)); the same id twice is an error."""
    reports: list[dict] = []
    seen: dict[str, str] = {}
    versions: set[object] = set()
    for where, obj in items:
        why = _check_report(obj)
        if why is not None:
            if isinstance(obj, dict) and obj.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
                versions.add(obj.get("schema_version"))
            problems.append(f"{where}: left out, {why}")
            continue
        sid = obj["submission"]
        if sid in seen:
            raise ReportInputError(f"{source}: the submission id {sid!r} appears twice ({seen[sid]} and {where}); "
                                   "give one batch's output, not several joined")
        seen[sid] = where
        reports.append(obj)
    if not reports:
        if versions:
            raise ReportInputError(f"{source}: reports of schema_version {sorted(map(str, versions))}, "
                                   f"this grader reads {SCHEMA_VERSION}: run grade batch with this grader")
        raise ReportInputError(f"{source}: no usable report ({problems[0] if problems else 'empty'}); "
                               "give the jsonl output of grade batch (--format jsonl) or its --state directory")
    return reports


def read_jsonl(path: Path) -> Loaded:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ReportInputError(f"{path}: not text; give the jsonl output of grade batch (--format jsonl)") from None
    except OSError as e:
        raise ReportInputError(f"cannot read {path}: {e.strerror}") from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise ReportInputError(f"{path} is empty: give the jsonl output of a finished grade batch")
    problems: list[str] = []
    items: list[tuple[str, object]] = []
    for n, line in lines:
        try:
            items.append((f"line {n}", json.loads(line)))
        except ValueError:
            problems.append(f"line {n}: left out, not JSON")
    if not items:
        hint = " (it looks like CSV: give --format jsonl output)" if "," in lines[0][1] else ""
        raise ReportInputError(f"{path}: no line is JSON{hint}; give the jsonl output of grade batch (--format jsonl)")
    state = path.parent / f".{path.name}.grader-state"
    loaded = Loaded(_collect(items, path, problems), problems)
    if state.is_dir():  # the jsonl is written when a batch ends: only its state can be partial
        loaded.submissions_dir = _manifest_dir(state)
    return loaded


def read_state(directory: Path) -> Loaded:
    reports_dir = directory / "reports"
    if not reports_dir.is_dir():
        raise ReportInputError(f"{directory} is a directory without reports/: give the jsonl output of grade batch "
                               "or its --state directory")
    problems: list[str] = []
    items: list[tuple[str, object]] = []
    for file in sorted(reports_dir.glob("*.json")):
        try:
            record = json.loads(file.read_text(encoding="utf-8"))
            items.append((file.name, record.get("report") if isinstance(record, dict) else None))
        except (OSError, ValueError):
            problems.append(f"{file.name}: left out, not JSON (a batch killed mid-write leaves none of these)")
    if not items and not problems:
        raise ReportInputError(f"{directory}: no report yet; wait for grade batch to grade some submissions")
    reports = _collect(items, directory, problems)
    reports.sort(key=lambda r: r["submission"])
    return Loaded(reports, problems, _running(directory), _manifest_dir(directory))


def _running(state: Path) -> bool:
    """Whether a `grade batch` holds this state directory's lock right now."""
    lock = state / "lock"
    if not lock.exists():
        return False
    try:
        with open(lock, "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(f, fcntl.LOCK_UN)
    except OSError:
        return False
    return False


def _manifest_dir(state: Path) -> Path | None:
    try:
        directory = Path(json.loads((state / "batch.json").read_text(encoding="utf-8"))["directory"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return directory if directory.is_dir() else None


def read_results(path: Path) -> Loaded:
    """The reports of a batch from its jsonl output or its --state directory."""
    if not path.exists():
        raise ReportInputError(f"{path} does not exist: give the jsonl output of grade batch or its --state directory")
    return read_state(path) if path.is_dir() else read_jsonl(path)


def read_roster(path: Path, ids: set[str]) -> dict[str, dict[str, str]]:
    """`submission,name,section` rows (header required; `section` optional) for ids of the batch."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
            header = [h.strip().lower() for h in (rows and list(rows[0].keys())) or []]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ReportInputError(f"cannot read the roster {path}: {getattr(e, 'strerror', None) or e}") from None
    if "submission" not in header or "name" not in header:
        raise ReportInputError(f"the roster {path} needs a header row with the columns submission,name[,section]")
    roster: dict[str, dict[str, str]] = {}
    unknown: list[str] = []
    for row in rows:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        sid = row.get("submission", "")
        if not sid:
            continue
        if sid not in ids:
            unknown.append(sid)
        roster[sid] = {"name": row.get("name", ""), "section": row.get("section", "")}
    if unknown:
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise ReportInputError(f"the roster {path} names submissions the batch does not have: "
                               f"{', '.join(map(repr, unknown[:3]))}{more}")
    return roster


def student_files(path: Path, scratch: Path) -> dict[str, str]:
    """The student files of one submission (folder, .zip or notebook), `{slug: source}`; {} when unreadable."""
    from grader import catalog
    from grader.submission import SubmissionError, locate, prepare

    try:
        root = prepare(path, scratch)
    except (SubmissionError, OSError):
        return {}
    files: dict[str, str] = {}
    for ex in catalog.exercises():
        found = locate(root, ex)
        if found is not None:
            try:
                files[ex.slug] = found.read_text(encoding="utf-8", errors="replace")
            except OSError:
                pass
    return files


def read_sources(directory: Path, ids: list[str]) -> dict[str, dict[str, str]]:
    """Each submission's student files, `{id: {slug: source}}`, read as the batch read them."""
    from grader.batch.entries import BatchError, discover

    try:
        entries = {e.id: e for e in discover(directory)}
    except BatchError as e:
        raise ReportInputError(str(e)) from None
    wanted = set(ids)
    with tempfile.TemporaryDirectory(prefix="grade-report-") as scratch:
        return {sid: student_files(entry.path, Path(scratch) / str(n))
                for n, (sid, entry) in enumerate(sorted(entries.items())) if sid in wanted}
