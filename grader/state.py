"""The student's local state: hints read and last results, in `.grader/state.json` of the working copy."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

STATE_DIR = ".grader"


def _path() -> Path:
    return Path.cwd() / STATE_DIR / "state.json"


def load() -> dict:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save(state: dict) -> None:
    """Write atomically; a read-only working copy just keeps no state."""
    path = _path()
    try:
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        pass


def hints_seen(state: dict, slug: str) -> int:
    return int(state.get("hints", {}).get(slug, 0))


def record_hint(state: dict, slug: str, level: int) -> None:
    hints = state.setdefault("hints", {})
    hints[slug] = max(int(hints.get(slug, 0)), level)


def record_result(state: dict, slug: str, score: float, max_score: float, status: str, when: str) -> None:
    state.setdefault("results", {})[slug] = {"score": score, "max_score": max_score, "status": status, "when": when}
