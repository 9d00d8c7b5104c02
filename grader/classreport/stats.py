"""The numbers of the class report, from plain report dicts, in pure Python.

No NumPy: the service's web process builds this view too and must stay light.
Every number is rounded to 4 decimals so that `class.json` is byte-identical across runs.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter

ATTEMPTED = ("passed", "failed", "error")
EXERCISE_STATUSES = ("passed", "failed", "error", "missing", "not_attempted")
MIN_FOR_FLAGS = 5  # fewer attempts than this say nothing about a check

# (flag, rule as the page prints it, test on a check's numbers)
FLAG_RULES = [
    ("too easy", "passed by ≥ 95% of the submissions that attempted it", lambda c: c["difficulty"] >= 0.95),
    ("too hard", "passed by ≤ 20% of the submissions that attempted it", lambda c: c["difficulty"] <= 0.20),
    ("negative discrimination", "discrimination < 0: those who pass it score lower on the rest",
     lambda c: c["discrimination"] is not None and c["discrimination"] < 0),
    ("low discrimination", "0 ≤ discrimination < 0.2: passing it says little about the rest of the score",
     lambda c: c["discrimination"] is not None and 0 <= c["discrimination"] < 0.2),
    ("errors", "student code raised (status error) in ≥ 10% of the attempts",
     lambda c: c["error"] >= 0.10 * c["attempted"]),
]


def r4(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4) + 0.0  # + 0.0: never -0.0


def summary(values: list[float]) -> dict:
    """mean, median, quartiles (inclusive method, as NumPy's default), min, max."""
    if not values:
        return {"n": 0, "mean": None, "median": None, "q1": None, "q3": None, "min": None, "max": None}
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else (values[0],) * 3
    return {"n": len(values), "mean": r4(statistics.fmean(values)), "median": r4(statistics.median(values)),
            "q1": r4(q1), "q3": r4(q3), "min": r4(min(values)), "max": r4(max(values))}


def histogram(values: list[float], top: float, bins: int = 10) -> list[list[float]]:
    """[[lo, hi, count], …] over [0, top]; each bin holds lo ≤ v < hi, the last one also v = top."""
    top = top if top > 0 else 1.0
    width = top / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(v / width + 1e-9)))] += 1
    return [[r4(i * width), r4((i + 1) * width), counts[i]] for i in range(bins)]


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """The correlation of xs and ys; None when either does not vary (the page shows n/a)."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(sxx * syy)


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`")
_ARRAY = re.compile(r"\[[^\[\]\n]*\]")


def replace_id(text: str, sid: str, label: str) -> str:
    """`text` with `sid` replaced by `label` where it stands alone (not inside a longer word)."""
    if not sid or sid not in text:
        return text
    return re.sub(rf"(?<![A-Za-z0-9_]){re.escape(sid)}(?![A-Za-z0-9_])", lambda _: label, text)


def scrub(message: str, sid: str) -> str:
    """A message with its submission's id replaced: examples read the same whoever wrote them."""
    return replace_id(message, sid, "<submission>")


def shape(message: str) -> str:
    """A message with its numbers, quoted values and arrays replaced: failures of one kind share a shape."""
    text = _ARRAY.sub("[…]", message)
    text = _QUOTED.sub("'…'", text)
    return _NUMBER.sub("#", text).strip()[:300]


def exercise_numbers(ex_id: int, reports: list[dict]) -> dict:
    rows = [(r, next(e for e in r["exercises"] if e["id"] == ex_id)) for r in reports
            if any(e["id"] == ex_id for e in r["exercises"])]
    first = rows[0][1]
    scores = [float(e["score"]) for _, e in rows]
    status_counts = Counter(e["status"] for _, e in rows)
    attempted = [(r, e) for r, e in rows if e["status"] in ATTEMPTED]

    order: dict[str, str] = {}  # check id -> title, in the order the reports list them
    for _, e in rows:
        for c in e["checks"]:
            order.setdefault(c.get("id") or c["name"], c["name"])
    checks = []
    for cid, title in order.items():
        outcome: Counter[str] = Counter()
        xs: list[float] = []
        rest: list[float] = []
        for r, e in attempted:
            c = next((c for c in e["checks"] if (c.get("id") or c["name"]) == cid), None)
            status = c["status"] if c else "skipped"
            outcome[status] += 1
            xs.append(1.0 if status == "passed" else 0.0)
            rest.append(float(r["score"]) - (float(c["score"]) if c else 0.0))
        n = len(attempted)
        check = {"id": cid, "name": title, "attempted": n, "passed": outcome["passed"], "failed": outcome["failed"],
                 "error": outcome["error"], "skipped": outcome["skipped"],
                 "difficulty": r4(outcome["passed"] / n) if n else None,
                 "discrimination": r4(pearson(xs, rest))}
        check["flags"] = [name for name, _, test in FLAG_RULES if n >= MIN_FOR_FLAGS and test(check)]
        checks.append(check)

    mistakes: dict[str, dict] = {}
    unnamed: dict[tuple[str, str], dict] = {}
    for r, e in attempted:
        named_here: set[str] = set()
        for c in e["checks"]:
            if c["status"] not in ("failed", "error"):
                continue
            cid = c.get("id") or c["name"]
            message = scrub(c.get("message") or "", r["submission"])
            if c.get("mistake"):
                m = mistakes.setdefault(c["mistake"], {"name": c["mistake"], "count": 0, "checks": [], "examples": []})
                if c["mistake"] not in named_here:
                    m["count"] += 1
                    named_here.add(c["mistake"])
                if cid not in m["checks"]:
                    m["checks"].append(cid)
                if message and message not in m["examples"] and len(m["examples"]) < 3:
                    m["examples"].append(message)
            else:
                key = (cid, shape(message))
                g = unnamed.setdefault(key, {"check": cid, "check_name": order.get(cid, cid), "status": c["status"],
                                             "shape": key[1], "count": 0, "example": message})
                g["count"] += 1
    n_att = len(attempted)
    mistake_list = sorted(mistakes.values(), key=lambda m: (-m["count"], m["name"]))
    for m in mistake_list:
        m["share"] = r4(m["count"] / n_att) if n_att else None
        m["check_names"] = [order.get(c, c) for c in m["checks"]]
    unnamed_list = sorted(unnamed.values(), key=lambda g: (-g["count"], g["check"], g["shape"]))
    return {
        "id": ex_id, "slug": first["slug"], "title": first.get("title") or first["slug"],
        "max_score": r4(max(float(e["max_score"]) for _, e in rows)), "submissions": len(rows),
        "attempted": n_att, **{k: v for k, v in summary(scores).items() if k != "n"},
        "histogram": histogram(scores, max(float(e["max_score"]) for _, e in rows)),
        "status_counts": {s: status_counts[s] for s in EXERCISE_STATUSES},
        "checks": checks, "mistakes": mistake_list, "unnamed_failures": unnamed_list,
    }


def build_numbers(reports: list[dict]) -> dict:
    ex_ids = sorted({e["id"] for r in reports for e in r["exercises"]})
    totals = [float(r["score"]) for r in reports]
    max_total = max((float(r["max_score"]) for r in reports), default=0.0)
    exercises = [exercise_numbers(i, reports) for i in ex_ids]
    students = []
    for r in reports:
        by_id = {e["id"]: e for e in r["exercises"]}
        students.append({
            "submission": r["submission"], "score": r4(r["score"]), "max_score": r4(r["max_score"]),
            "exercises": [{"id": i, "score": r4(by_id[i]["score"]) if i in by_id else None,
                           "status": by_id[i]["status"] if i in by_id else None} for i in ex_ids],
            "errors": sum(1 for e in r["exercises"] if e["status"] == "error"),
            "grader_errors": int(r.get("grader_errors") or 0),
        })
    students.sort(key=lambda s: s["submission"])
    return {
        "submissions": len(reports), "max_score": r4(max_total),
        "total": {**summary(totals), "histogram": histogram(totals, max_total)},
        "exercises": exercises, "students": students,
        "flag_rules": [{"flag": name, "rule": rule} for name, rule, _ in FLAG_RULES],
        "min_attempts_for_flags": MIN_FOR_FLAGS,
    }
