"""Grade every mutant of every exercise with one warm `Grader`, and sort them.

A mutant is *killed* when it loses points (a crash or an exception counts), *named* when a
failed check also carries a `mistake` (*wrong_name* when none of the names fits the operator
that made the mutant: `fits.FITS`), *equivalent* when it keeps full marks and the
exercise's `[[equivalent_mutants]]` lists it with a reason, and *survived* otherwise: a
survivor is a hole in the checks. Mutants run through the normal sandboxed runner, like any
submission.
"""

from __future__ import annotations

import fnmatch
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from grader import api, catalog
from grader.mutants.generate import Mutant, generate, sample, sources
from grader.mutants.fits import fitting_names

NAMED_TARGET = 0.8
# Below this many killed mutants a share named says little (1 of 3 is 33%): it is reported, not held to the target.
NAMED_MIN_KILLED = 10
WRONG_NAME_LIMIT = 0.1
DEFAULT_SEED = 1234


def equivalence(ex: catalog.Exercise, mutant_id: str) -> str | None:
    """The reason the exercise's metadata gives for this mutant being equivalent, if any."""
    for entry in ex.equivalent_mutants:
        if fnmatch.fnmatchcase(mutant_id, entry.id):
            return entry.reason
    return None


def _grade(grader: api.Grader, ex: catalog.Exercise, code: str, submission_id: str, scratch: Path):
    (scratch / ex.file).write_text(code, encoding="utf-8")
    return grader.grade(scratch, [ex.id], submission_id=submission_id).exercises[0]


def _exercise(grader: api.Grader, ex: catalog.Exercise, size: int | None, seed: int,
              log: Callable[[str], None]) -> dict:
    everything, stillborn = generate(ex)
    chosen = sample(everything, size, seed, ex.slug)
    row = {"id": ex.id, "slug": ex.slug, "mutants": 0, "killed": 0, "named": 0, "wrong_name": 0, "equivalent": 0,
           "survived": 0, "generated": len(everything), "stillborn": stillborn, "survivors": [], "unnamed": [],
           "wrong_names": [], "names": {},
           "listed_equivalent_but_killed": [], "problems": []}
    with tempfile.TemporaryDirectory(prefix="grader-mutant-") as tmp:
        scratch = Path(tmp)
        broken, wanted = set(), {m.source for m in chosen}
        for label, path in sources(ex):
            if label not in wanted:
                continue
            result = _grade(grader, ex, path.read_text(encoding="utf-8"), label, scratch)
            if result.score != result.max_score:
                broken.add(label)
                row["problems"].append(f"{label} scores {result.score:g}/{result.max_score:g} before any mutation: "
                                       "its mutants are not graded")
        chosen = [m for m in chosen if m.source not in broken]
        log(f"{ex.slug}: grading {len(chosen)} of {len(everything)} mutants ({stillborn} stillborn not graded)")
        for i, mutant in enumerate(chosen, 1):
            outcome = _classify(row, ex, mutant, _grade(grader, ex, mutant.code, mutant.id, scratch))
            log(f"{ex.slug} {i}/{len(chosen)} {outcome}: {mutant.id}")
    return row


def _classify(row: dict, ex: catalog.Exercise, mutant: Mutant, result) -> str:
    """Count the mutant in `row`; return its outcome in a word or two."""
    row["mutants"] += 1
    reason = equivalence(ex, mutant.id)
    if result.score < result.max_score:
        row["killed"] += 1
        mistakes = sorted({c.mistake for c in result.checks if c.status != "passed" and c.mistake})
        if mistakes:
            row["named"] += 1
            row["names"][mutant.id] = mistakes
            outcome = f"killed, named {', '.join(mistakes)}"
            if not set(mistakes) & fitting_names(mutant.operator, token(mutant)):
                row["wrong_name"] += 1
                row["wrong_names"].append({"id": mutant.id, "description": mutant.description, "mistakes": mistakes})
                outcome += " (a name that does not fit the operator)"
        else:
            outcome = "killed, not named"
            failed = [c for c in result.checks if c.status != "passed"]
            first = failed[0].message if failed else result.message
            row["unnamed"].append({"id": mutant.id, "description": mutant.description,
                                   "status": result.status, "message": (first or "")[:300]})
        if reason is not None:
            row["listed_equivalent_but_killed"].append(mutant.id)
        return outcome
    if reason is not None:
        row["equivalent"] += 1
        return "equivalent"
    row["survived"] += 1
    row["survivors"].append({"id": mutant.id, "description": mutant.description})
    return "SURVIVED"


def token(mutant: Mutant) -> str:
    """The change an operator made, the last part of the mutant's id ("Sub>Add", "drop")."""
    return mutant.id.split("/", 3)[3]


def meets_targets(row: dict) -> bool:
    return (row["survived"] == 0 and not row["problems"] and not row["listed_equivalent_but_killed"]
            and (row["named"] >= NAMED_TARGET * row["killed"] or row["killed"] < NAMED_MIN_KILLED)
            and row.get("wrong_name", 0) <= WRONG_NAME_LIMIT * row["killed"])


def _clip(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters at a word, never inside a `code` span."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    if cut.count("`") % 2:
        cut = cut[: cut.rfind("`")].rstrip()
    return cut + " …"


def analyse(exercises: Sequence[catalog.Exercise], size: int | None | Mapping[int, int | None] = None,
            seed: int = DEFAULT_SEED, log: Callable[[str], None] = lambda m: None) -> dict:
    """Mutation analysis of each exercise's checks.

    `size`: mutants sampled per exercise (None: all), or a size per exercise id.
    """
    sizes = size if isinstance(size, Mapping) else {ex.id: size for ex in exercises}
    with api.Grader() as grader:
        rows = [_exercise(grader, ex, sizes.get(ex.id), seed, log) for ex in exercises]
    return {"seed": seed, "sample": size if not isinstance(size, Mapping) else dict(size), "exercises": rows}


def render(analysis: dict) -> str:
    """The analysis as an instructor reads it."""
    lines = [f"{'exercise':<18}{'mutants':>8}{'killed':>8}{'named':>8}{'wrong':>8}{'equiv.':>8}{'survived':>9}   target"]
    for r in analysis["exercises"]:
        named = (f"{r['named'] / r['killed']:.0%} named, {r['wrong_name'] / r['killed']:.0%} wrong"
                 if r["killed"] else "-")
        few = "; too few killed to hold to the named target" if r["killed"] < NAMED_MIN_KILLED else ""
        lines.append(f"{r['slug']:<18}{r['mutants']:>8}{r['killed']:>8}{r['named']:>8}{r['wrong_name']:>8}"
                     f"{r['equivalent']:>8}{r['survived']:>9}   {'met' if meets_targets(r) else 'NOT met'} ({named}{few})")
    for r in analysis["exercises"]:
        lines += [f"✗ {r['slug']}: {p}" for p in r["problems"]]
        lines += [f"✗ survived: {s['id']}\n    {s['description']}" for s in r["survivors"]]
        lines += [f"✗ listed as equivalent but killed: {m}" for m in r["listed_equivalent_but_killed"]]
        lines += [f"· killed, not named: {u['id']} ({u['status']}): {_clip(u['message'], 160)}" for u in r["unnamed"]]
        lines += [f"· named, but not as what the operator did: {w['id']}: {', '.join(w['mistakes'])}"
                  for w in r["wrong_names"]]
    return "\n".join(lines)
