"""A pool worker: one long-lived process that grades submissions one after another.

The pool (`grader.pool.workers`) keeps one of these per slot
(`python -m grader.pool.worker_main`), for `grade batch`, `grade serve` and the
notebook helper.
It holds one warm `grader.api.Grader` (a zygote that imported TensorFlow once,
the judge's imports, the cached references), so a submission costs its checks,
not a TensorFlow import. It never runs student code itself: each exercise of
each submission runs in a fresh runner forked from the zygote.

Protocol, plain JSON, one document per line (never pickle):

  pool   -> worker, stdin   {"id": "alice", "submission": "/path/to/alice.zip",
                             "exercises": [1, 3] | null, "seed": 1234 | null}
  worker -> pool,   stdout  {"id": "alice", "report": {...the contract report...}}
                         or {"id": "alice" | null, "error": {"code": "bad_request", "message": "..."}}

Every field of a request is checked before anything is graded (`parse_request`):
a line that is not a JSON object, an unknown field, an id that is not a string,
a relative path, an unknown exercise or a seed that is not an integer in
[0, 2**63) gets the `error` reply, and the worker waits for the next request.

Anything else the worker or a library prints goes to stderr (the pool's log
of this worker), so it cannot break a reply. The worker unpacks a `.zip` safely
into a scratch directory of its own, and after every submission kills whatever
that submission left running below it. On an unexpected error it prints the
traceback and exits: the pool's caller turns that into an error report (batch)
or a retry (service), and a new worker takes the slot. It exits when stdin
closes; when its parent dies it kills all it started and itself, and removes
its scratch directory.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from grader import __version__, catalog, submission
from grader.pool.procs import descendants, kill
from grader.pool.store import effective_seed
from grader.report import error_report


def _load(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _die_with_parent(parent: int, scratch: Path | None) -> None:
    """If the parent (`grade batch`, `grade serve`) is killed (kill -9), take this worker, the processes it started and its files down too."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        # The main thread may still be grading, starting processes and making files
        # while this one cleans up: go round until both are gone.
        for _ in range(20):
            for pid in reversed(descendants(os.getpid())):
                kill(pid)
            if scratch is None:
                break
            shutil.rmtree(scratch, ignore_errors=True)
            if not scratch.exists():
                break
            time.sleep(0.05)
        kill(os.getpid())

    threading.Thread(target=watch, daemon=True).start()


class _Grading:
    """The grading API this worker calls: a `Grader`-like class (kept warm) or a plain grade function."""

    def __init__(self, spec: str):
        target = _load(spec)
        self.grader = target() if isinstance(target, type) else None
        self.grade = self.grader.grade if self.grader is not None else target

    def keep(self) -> set[int]:
        """The processes that belong to the worker between submissions: its zygote, if any."""
        zygote = getattr(self.grader, "zygote", None)
        pid = getattr(zygote, "pid", None)
        return {pid} if pid else set()

    def close(self) -> None:
        if self.grader is not None:
            self.grader.close()


class BadRequest(ValueError):
    """A request this worker cannot grade; `sid` is its id when that much was readable."""

    def __init__(self, message: str, sid: str | None = None):
        super().__init__(message)
        self.sid = sid


FIELDS = ("id", "submission", "exercises", "seed")
SEED_LIMIT = 2**63  # the service's own bound on a seed


def parse_request(line: str) -> dict:
    """The request on `line`, every field checked; BadRequest says what is wrong with it."""
    try:
        request = json.loads(line)
    except ValueError as e:
        raise BadRequest(f"the request is not JSON ({e})") from None
    if not isinstance(request, dict):
        raise BadRequest(f"the request must be a JSON object, got {type(request).__name__}")
    sid = request.get("id")
    if not isinstance(sid, str) or not sid:
        raise BadRequest(f"'id' must be a non-empty string, got {sid!r}"[:300])
    unknown = sorted(set(request) - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(map(repr, unknown))}; a request has {', '.join(FIELDS)}"[:300], sid)
    path = request.get("submission")
    if not isinstance(path, str) or "\0" in path or not os.path.isabs(path):
        raise BadRequest(f"'submission' must be an absolute path, got {path!r}"[:300], sid)
    exercises = request.get("exercises")
    if exercises is not None:
        if not isinstance(exercises, list) or not exercises or not all(type(n) is int for n in exercises):
            raise BadRequest(f"'exercises' must be null or a non-empty list of exercise numbers, got {exercises!r}"[:300], sid)
        try:
            catalog.select(exercises)
        except catalog.CatalogError as e:
            raise BadRequest(f"'exercises': {e}"[:300], sid) from None
    seed = request.get("seed")
    if seed is not None and not (type(seed) is int and 0 <= seed < SEED_LIMIT):
        raise BadRequest(f"'seed' must be null or an integer from 0 to 2**63 - 1, got {seed!r}"[:300], sid)
    return {"id": sid, "submission": Path(path), "exercises": exercises, "seed": seed}


def refusal(e: BadRequest) -> dict:
    return {"id": e.sid, "error": {"code": "bad_request", "message": str(e)}}


def grade_one(grading: _Grading, request: dict, exercises: list[int] | None, seed: int | None) -> dict:
    """Grade one checked request; its own `exercises` and `seed`, when given, override the worker's defaults."""
    path, sid = request["submission"], request["id"]
    if request["exercises"] is not None:
        exercises = request["exercises"]
    if request["seed"] is not None:
        seed = request["seed"]
    with tempfile.TemporaryDirectory(prefix="grader-sub-") as scratch:
        try:
            root = submission.prepare(path, Path(scratch))
        except submission.SubmissionError as e:
            report = error_report(sid, catalog.select(exercises), effective_seed(seed), __version__,
                                  f"Your submission could not be opened: {e}")
        else:
            report = grading.grade(root, exercises=exercises, seed=seed, submission_id=sid)
    return {"id": sid, "report": report.model_dump(mode="json")}


def _sweep(keep: set[int]) -> None:
    """Kill whatever the last submission left below this worker (only the zygote may stay), and reap it."""
    killed = [pid for pid in reversed(descendants(os.getpid())) if pid not in keep]
    for pid in killed:
        kill(pid)
    deadline = time.monotonic() + 1.0
    for pid in killed:  # those that were our own children
        while True:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] or time.monotonic() > deadline:
                    break
            except ChildProcessError:
                break
            time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m grader.pool.worker_main")
    p.add_argument("--exercise", type=int, action="append")
    p.add_argument("--seed", type=int)
    p.add_argument("--grade-fn", default="grader.api:Grader")
    p.add_argument("--parent", type=int)
    p.add_argument("--scratch", type=Path, help="a directory of this worker's own for every temporary file")
    args = p.parse_args(argv)
    if args.scratch is not None:
        os.environ["TMPDIR"] = tempfile.tempdir = str(args.scratch)
    if args.parent:
        _die_with_parent(args.parent, args.scratch)
    # Replies go to the original stdout; everything else printed (by the grader, pytest,
    # TensorFlow's C++ side) goes to stderr, the pool's log of this worker.
    sys.stdout.flush()
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)

    grading = _Grading(args.grade_fn)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                request = parse_request(line)
            except BadRequest as e:
                reply = refusal(e)
            else:
                reply = grade_one(grading, request, args.exercise, args.seed)
                _sweep(grading.keep())
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
    finally:
        grading.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
