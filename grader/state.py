"""The student's local state: hints read and last results, in `.grader/state.json` of the work they belong to.

The work is the `grade init` workspace (or the course checkout) the current directory
is in, wherever below it the command runs (`grader.workspace.state_dir()`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def _path() -> Path:
    from grader.workspace import state_dir

    return state_dir() / "state.json"


def load() -> dict:
    """The state; a file that is unreadable, or whose entries have the wrong shape, counts as none of them."""
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    hints, results = data.get("hints"), data.get("results")
    return {
        **data,
        "hints": {k: v for k, v in hints.items() if _is_count(v)} if isinstance(hints, dict) else {},
        "results": {k: v for k, v in results.items() if _is_result(v)} if isinstance(results, dict) else {},
    }


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_result(value: object) -> bool:
    return (isinstance(value, dict)
            and all(isinstance(value.get(k), (int, float)) and not isinstance(value.get(k), bool) for k in ("score", "max_score"))
            and all(isinstance(value.get(k), str) for k in ("status", "when")))  # fmt: skip


def save(state: dict) -> None:
    """Write atomically; a read-only working copy just keeps no state."""
    path = _path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        pass


def hints_seen(state: dict, slug: str) -> int:
    return state.get("hints", {}).get(slug, 0)


def record_hint(state: dict, slug: str, level: int) -> None:
    hints = state.setdefault("hints", {})
    hints[slug] = max(hints.get(slug, 0), level)


def record_result(state: dict, slug: str, score: float, max_score: float, status: str, when: str) -> None:
    state.setdefault("results", {})[slug] = {"score": score, "max_score": max_score, "status": status, "when": when}
