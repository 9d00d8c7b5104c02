"""Which submissions are too alike: winnowed fingerprints of normalised Python tokens.

As MOSS, Dolos and copydetect do: the student's code is tokenised (Python's `tokenize`),
comments and docstrings dropped, identifiers, numbers and strings replaced by one symbol
each (attribute and builtin names are kept: `tf.reduce_mean` stays what it is), and the
hashes of its K-token runs winnowed (the smallest in each window of W). Two submissions
share a fingerprint when they share a run of K normalised tokens, wherever it sits: so
renamed variables, reordered functions, new comments and docstrings change nothing, and an
added statement breaks only the runs that cross it.

Not counted: runs of the shipped stub (its signatures, docstrings, the given `Model` class),
and runs found in more than COMMON of the submissions (what everyone writes). A pair is
flagged for one exercise when it shares at least MIN_SHARED fingerprints there and its
score reaches THRESHOLD; for the whole submission with MIN_SHARED_WHOLE over at least two
exercises (a pair sharing code in one exercise only is judged on that exercise alone).
A short exercise everyone solves alike (exercise 1 is one line) has too few fingerprints to
be flagged on its own. The figures behind these settings are in docs/instructors.md.

Pure Python: the service builds this view in its web process.
"""

from __future__ import annotations

import builtins
import io
import itertools
import keyword
import tokenize
import zlib
from collections import defaultdict
from functools import cache

K = 10  # tokens per run
W = 4  # winnowing window
THRESHOLD = 0.5  # Dice score of the counted fingerprints
MIN_SHARED = 20  # per exercise: more than exercise 1 can ever have, so it is never flagged on its own
MIN_SHARED_WHOLE = 12  # and from at least two exercises
COMMON_SHARE = 0.05  # a fingerprint in more than this share of the submissions (and more than COMMON_MIN) is ignored
COMMON_MIN = 5
VIEWS = 30  # side-by-side views of the highest pairs

_KEEP = frozenset(keyword.kwlist) | frozenset(dir(builtins))
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
         tokenize.ENDMARKER}
_STATEMENT_START = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.NL, tokenize.COMMENT}
_FSTRING = {getattr(tokenize, n) for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END") if hasattr(tokenize, n)}


def _raw(source: str) -> list[tokenize.TokenInfo]:
    out: list[tokenize.TokenInfo] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            out.append(tok)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # unfinished code: what was read so far still counts
    return out


@cache
def _code(text: str) -> int:
    return zlib.crc32(text.encode())


def normalise(source: str) -> tuple[list[int], list[int]]:
    """The normalised tokens of `source` as codes, and the line each one starts on."""
    raw = _raw(source)
    codes: list[int] = []
    lines: list[int] = []
    prev_sig = tokenize.NEWLINE
    prev_text = ""
    in_fstring = 0
    for i, tok in enumerate(raw):
        if tok.type in _FSTRING:
            if tok.type == getattr(tokenize, "FSTRING_START", None):
                in_fstring += 1
                codes.append(_code("S"))
                lines.append(tok.start[0])
            elif tok.type == getattr(tokenize, "FSTRING_END", None):
                in_fstring -= 1
            continue
        if in_fstring:
            continue
        if tok.type in _SKIP:
            if tok.type in _STATEMENT_START:
                prev_sig = tok.type
            continue
        if tok.type == tokenize.STRING and prev_sig in _STATEMENT_START:
            nxt = next((t for t in raw[i + 1:] if t.type not in (tokenize.COMMENT, tokenize.NL)), None)
            if nxt is None or nxt.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                prev_sig = tokenize.STRING
                continue  # a docstring or a bare string: a comment in disguise
        if tok.type == tokenize.NAME:
            text = tok.string if tok.string in _KEEP or prev_text == "." else "V"
        elif tok.type == tokenize.NUMBER:
            text = "N"
        elif tok.type == tokenize.STRING:
            text = "S"
        else:
            text = tok.string
        codes.append(_code(text))
        lines.append(tok.start[0])
        prev_sig = tok.type
        prev_text = tok.string
    return codes, lines


def kgrams(codes: list[int]) -> list[int]:
    return [hash(tuple(codes[i:i + K])) for i in range(len(codes) - K + 1)]


def winnow(hashes: list[int]) -> dict[int, list[int]]:
    """The fingerprints: the smallest hash of each window of W (rightmost on ties) -> where its runs start."""
    chosen: dict[int, list[int]] = {}
    if not hashes:
        return chosen
    last = -1
    for start in range(max(1, len(hashes) - W + 1)):
        window = hashes[start:start + W]
        low = min(window)
        pos = start + max(j for j, h in enumerate(window) if h == low)
        if pos != last:
            chosen.setdefault(low, []).append(pos)
            last = pos
    return chosen


class Doc:
    """One student file: its lines, normalised tokens and fingerprints (stub runs removed)."""

    __slots__ = ("lines", "token_lines", "prints")

    def __init__(self, source: str, stub_runs: frozenset[int]):
        self.lines = source.splitlines()
        codes, self.token_lines = normalise(source)
        self.prints = {h: p for h, p in winnow(kgrams(codes)).items() if h not in stub_runs}


@cache
def _stubs() -> dict[str, tuple[frozenset[int], frozenset[str]]]:
    """Per exercise slug: the stub's runs (never counted) and its stripped lines (greyed out)."""
    from grader import catalog

    out: dict[str, tuple[frozenset[int], frozenset[str]]] = {}
    for ex in catalog.exercises():
        try:
            text = (catalog.exercises_dir() / ex.slug / ex.file).read_text(encoding="utf-8")
        except OSError:
            text = ""
        out[ex.slug] = (frozenset(kgrams(normalise(text)[0])), frozenset(ln.strip() for ln in text.splitlines() if ln.strip()))
    return out


def _dice(shared: int, a: int, b: int) -> float:
    return 2 * shared / (a + b) if a + b else 0.0


def analyse(sources: dict[str, dict[str, str]], ids: list[str]) -> dict:
    """The similarity part of class.json for `sources` ({submission: {slug: source}})."""
    stubs = _stubs()
    order = {slug: n for n, slug in enumerate(stubs)}
    present = sorted(sid for sid in ids if sid in sources)
    slugs = sorted({slug for sid in present for slug in sources[sid] if slug in stubs}, key=order.get)
    docs: dict[str, dict[str, Doc]] = {slug: {} for slug in slugs}
    for sid in present:
        for slug, text in sources[sid].items():
            if slug in stubs:
                docs[slug][sid] = Doc(text, stubs[slug][0])
    n = len(present)
    common_at = max(COMMON_MIN, int(COMMON_SHARE * n))
    shared: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    sizes: dict[str, dict[str, int]] = {sid: {} for sid in present}
    freq: dict[str, dict[int, int]] = {}
    for slug in slugs:
        index: dict[int, list[str]] = defaultdict(list)
        for sid, doc in docs[slug].items():
            for h in doc.prints:
                index[h].append(sid)
        freq[slug] = {h: len(v) for h, v in index.items()}
        for sid, doc in docs[slug].items():
            sizes[sid][slug] = sum(1 for h in doc.prints if len(index[h]) <= common_at)
        for holders in index.values():
            if 2 <= len(holders) <= common_at:
                for a, b in itertools.combinations(sorted(holders), 2):
                    per = shared[(a, b)]
                    per[slug] = per.get(slug, 0) + 1
    whole, by_exercise = [], []
    for (a, b), per in shared.items():
        total = sum(per.values())
        size_a, size_b = sum(sizes[a].values()), sum(sizes[b].values())
        score = _dice(total, size_a, size_b)
        spread = sum(1 for c in per.values() if c >= 3)  # code shared in one exercise only is judged there alone
        if spread >= 2 and total >= MIN_SHARED_WHOLE and score >= THRESHOLD:
            whole.append({"a": a, "b": b, "exercise": None, "score": round(score, 4), "shared": total})
            continue
        for slug, count in per.items():
            s = _dice(count, sizes[a].get(slug, 0), sizes[b].get(slug, 0))
            if count >= MIN_SHARED and s >= THRESHOLD:
                by_exercise.append({"a": a, "b": b, "exercise": order[slug] + 1, "slug": slug,
                                    "score": round(s, 4), "shared": count})
    pairs = sorted(whole + by_exercise, key=lambda p: (-p["score"], p["a"], p["b"], p["exercise"] or 0))
    return {
        "similarity": pairs,
        "similarity_clusters": _clusters(pairs),
        "similarity_views": [_view(p, docs, freq, common_at, stubs) for p in pairs[:VIEWS]],
        "similarity_settings": {"k": K, "window": W, "threshold": THRESHOLD, "min_shared": MIN_SHARED,
                                "min_shared_whole": MIN_SHARED_WHOLE, "common_above": common_at,
                                "submissions_with_code": n, "submissions_without_code": len(ids) - n},
    }


def _clusters(pairs: list[dict]) -> list[dict]:
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        parent[root(p["a"])] = root(p["b"])
    groups: dict[str, list[str]] = defaultdict(list)
    for x in sorted(parent):
        groups[root(x)].append(x)
    out = []
    for members in groups.values():
        inside = [p for p in pairs if p["a"] in members]
        out.append({"members": members, "pairs": len(inside), "max_score": max(p["score"] for p in inside)})
    return sorted(out, key=lambda c: (-len(c["members"]), -c["max_score"], c["members"]))


def _marks(doc: Doc, other: Doc, freq: dict[int, int], common_at: int, stub_lines: frozenset[str]) -> list[list]:
    """Each line of `doc` as [text, kind, others]: kind shared / common / stub / '' and how many others share it."""
    kind: dict[int, str] = {}
    others: dict[int, int] = {}
    for h, starts in doc.prints.items():
        f = freq.get(h, 0)
        is_shared = h in other.prints and f <= common_at
        if not is_shared and f <= common_at:
            continue
        for p in starts:
            last = min(p + K - 1, len(doc.token_lines) - 1)
            for line in range(doc.token_lines[p], doc.token_lines[last] + 1):
                if is_shared:
                    kind[line] = "shared"
                    others[line] = max(others.get(line, 0), f - 2)
                else:
                    kind.setdefault(line, "common")
    coded = set(doc.token_lines)  # a run spans blank lines and docstrings too: mark only lines with code
    kind = {n: k for n, k in kind.items() if n in coded}
    rows = []
    for n, text in enumerate(doc.lines, 1):
        k = "stub" if text.strip() in stub_lines else kind.get(n, "")
        rows.append([text, k, others.get(n, 0) if k == "shared" else 0])
    return rows


def _view(pair: dict, docs: dict[str, dict[str, Doc]], freq: dict[str, dict[int, int]], common_at: int,
          stubs: dict) -> dict:  # fmt: skip
    a, b = pair["a"], pair["b"]
    files = []
    for slug, by_sid in docs.items():
        if (pair["exercise"] is not None and slug != pair.get("slug")) or a not in by_sid or b not in by_sid:
            continue
        da, db = by_sid[a], by_sid[b]
        if not set(da.prints) & set(db.prints):
            continue
        files.append({"slug": slug, "a": _marks(da, db, freq[slug], common_at, stubs[slug][1]),
                      "b": _marks(db, da, freq[slug], common_at, stubs[slug][1])})
    return {"a": a, "b": b, "exercise": pair["exercise"], "score": pair["score"], "files": files}
