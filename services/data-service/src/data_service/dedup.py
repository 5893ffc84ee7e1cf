"""Exact and near-duplicate removal for training examples.

Exact: the same text after normalization (Unicode NFKC, case, whitespace and sentence
punctuation ignored; math symbols kept). Near: Jaccard similarity of the two texts' sets of
word shingles (``shingle_size`` consecutive tokens) at least ``threshold``.

Near duplicates are found with prefix filtering, the exact set-similarity join of AllPairs /
PPJoin (Bayardo et al. 2007; Xiao et al. 2008): shingles are ordered globally, rarest first; two
sets with Jaccard >= t must share one of the first ``|X| - ceil(t*|X|) + 1`` shingles of each, so
only such pairs (of compatible sizes) are compared, and each is verified with the exact Jaccard.
No pair at or above the threshold is missed and none below it is dropped. Input order decides
who stays: an example is compared with the examples kept before it.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel
from tutorlab.curriculum.training_format import example_id, example_text

_WORDS_AND_SYMBOLS = re.compile(r"[^\W_]+|[+\-*/=<>^%$×÷√]")
_WORDS = re.compile(r"[^\W_]+")
_BASE = np.uint64(1099511628211)  # odd multiplier for rolling n-gram hashes


def tokenize(text: str, *, symbols: bool = True) -> list[str]:
    """Normalized tokens: NFKC, case-folded; words (letters/digits) and, when ``symbols``,
    the math symbols + - * / = < > ^ % $ × ÷ √ as their own tokens."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return (_WORDS_AND_SYMBOLS if symbols else _WORDS).findall(text)


def token_hash(token: str) -> int:
    """Stable 64-bit hash of one token (BLAKE2b)."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")


def mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer: spreads the bits of each uint64 (wrapping arithmetic)."""
    z = values.astype(np.uint64, copy=True)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


@dataclass(frozen=True)
class TokenizedTexts:
    """Many texts' token hashes end to end: text ``i`` is ``hashes[offsets[i]:offsets[i+1]]``."""

    hashes: np.ndarray  # uint64
    offsets: np.ndarray  # int64, len = n_texts + 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1


def tokenize_texts(texts: Sequence[str], *, symbols: bool = True) -> TokenizedTexts:
    """Tokenize and hash many texts at once (one hash per distinct token)."""
    vocab: defaultdict[str, int] = defaultdict(itertools.count().__next__)
    ids: list[int] = []
    offsets = [0]
    for text in texts:
        ids.extend(map(vocab.__getitem__, tokenize(text, symbols=symbols)))
        offsets.append(len(ids))
    vocab_hashes = np.fromiter((token_hash(t) for t in vocab), dtype=np.uint64, count=len(vocab))
    hashes = vocab_hashes[np.asarray(ids, dtype=np.int64)] if ids else np.empty(0, np.uint64)
    return TokenizedTexts(hashes, np.asarray(offsets, dtype=np.int64))


def iter_window_hashes(
    texts: TokenizedTexts, lengths: Iterable[int]
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """For each n in ``lengths`` (ascending): ``(n, hashes, starts, text)`` of every run of n
    tokens lying inside one text; ``starts`` are positions in ``texts.hashes``. A run's hash
    depends only on its tokens and n."""
    wanted = sorted({n for n in lengths if n >= 1})
    if not wanted or len(texts.hashes) == 0:
        return
    tokens = texts.hashes
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), texts.lengths)
    h = tokens.copy()  # runs of length 1
    for n in range(1, wanted[-1] + 1):
        if n > 1:
            h = h[:-1] * _BASE + tokens[n - 1 :]
        if len(h) == 0:
            return
        if n in wanted:
            inside = np.flatnonzero(doc[: len(h)] == doc[n - 1 :])
            yield n, mix64(h[inside] ^ np.uint64(n)), inside, doc[inside]


def window_hashes(texts: TokenizedTexts, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every run of ``n`` tokens inside one text, and the text of each run."""
    for _, hashes, _, doc in iter_window_hashes(texts, [n]):
        return hashes, doc
    return np.empty(0, np.uint64), np.empty(0, np.int64)


def whole_text_hashes(texts: TokenizedTexts, which: np.ndarray) -> np.ndarray:
    """The hash of each text in ``which`` taken whole: its run of n = len(text) tokens."""
    out = np.empty(len(which), dtype=np.uint64)
    lengths = texts.lengths
    by_length: dict[int, list[int]] = {}
    for pos, i in enumerate(which.tolist()):
        by_length.setdefault(int(lengths[i]), []).append(pos)
    for n, hashes, starts, _ in iter_window_hashes(texts, by_length):
        positions = by_length[n]
        found = np.searchsorted(starts, texts.offsets[which[positions]])
        out[positions] = hashes[found]
    return out


class Duplicate(BaseModel):
    index: int
    id: str
    reason: Literal["exact", "near"]
    duplicate_of_index: int
    duplicate_of: str
    similarity: float  # 1.0 for exact duplicates; shingle-set Jaccard for near ones


class DedupResult(BaseModel):
    kept: list[int]
    kept_ids: list[str]
    dropped: list[Duplicate]
    threshold: float
    shingle_size: int

    @property
    def n_exact(self) -> int:
        return sum(d.reason == "exact" for d in self.dropped)

    @property
    def n_near(self) -> int:
        return sum(d.reason == "near" for d in self.dropped)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (by sorting; faster here than np.unique's hash path)."""
    ordered = np.sort(values)
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and, for each value, the index of its distinct value."""
    order = np.argsort(values)
    ordered = values[order]
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


@dataclass(frozen=True)
class _ShingleSets:
    """Per text, its distinct shingles as ranks in a global order, rarest first (ties by
    hash): text ``i`` holds ``ranks[starts[i]:starts[i+1]]``, sorted ascending."""

    ranks: np.ndarray
    starts: np.ndarray

    def of(self, i: int) -> np.ndarray:
        return self.ranks[self.starts[i] : self.starts[i + 1]]


def _shingle_sets(texts: TokenizedTexts, k: int) -> _ShingleSets:
    """Distinct k-shingles of each text (a text shorter than k tokens is one shingle)."""
    hashes, doc = window_hashes(texts, k)
    lengths = texts.lengths
    short = np.flatnonzero((lengths > 0) & (lengths < k))
    if len(short):
        hashes = np.concatenate([hashes, whole_text_hashes(texts, short)])
        doc = np.concatenate([doc, short.astype(np.int64)])
    unique, gid = _unique_inverse(hashes)
    n_unique = max(len(unique), 1)
    pairs = _sorted_unique(doc * n_unique + gid)  # distinct (text, shingle), sorted by text
    doc, gid = pairs // n_unique, pairs % n_unique
    counts = np.bincount(gid, minlength=n_unique)  # texts holding each shingle
    rank_of = np.empty(n_unique, dtype=np.int64)
    rank_of[np.argsort(counts * n_unique + np.arange(n_unique), kind="stable")] = np.arange(
        n_unique
    )
    ranks = rank_of[gid]
    # sort each text's ranks: text-major key again
    ranks = np.sort(doc * n_unique + ranks) - doc * n_unique
    starts = np.searchsorted(doc, np.arange(len(texts) + 1))
    return _ShingleSets(ranks, starts)


def deduplicate(
    items: Sequence[Any],
    *,
    ids: Sequence[str] | None = None,
    threshold: float = 0.8,
    near: bool = True,
    shingle_size: int = 3,
) -> DedupResult:
    """Drop exact and near duplicates, keeping the first of each group (input order).

    ``items``: strings, training examples or their dicts (text: prompt + response, or all
    message contents). ``ids`` default to each item's ``id`` or else its index.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if shingle_size < 1:
        raise ValueError(f"shingle_size must be positive, got {shingle_size}")
    if ids is not None and len(ids) != len(items):
        raise ValueError(f"got {len(ids)} ids for {len(items)} items")
    if ids is not None:
        names = [str(x) for x in ids]
    else:
        names = [example_id(x, i) for i, x in enumerate(items)]
    texts = [example_text(item) for item in items]
    tokenized = tokenize_texts(texts)

    dropped: dict[int, Duplicate] = {}
    first_by_text: dict[bytes, int] = {}
    for i in range(len(items)):
        digest = hashlib.blake2b(
            tokenized.hashes[tokenized.offsets[i] : tokenized.offsets[i + 1]].tobytes(),
            digest_size=16,
        ).digest()
        first = first_by_text.setdefault(digest, i)
        if first != i:
            dropped[i] = Duplicate(
                index=i,
                id=names[i],
                reason="exact",
                duplicate_of_index=first,
                duplicate_of=names[first],
                similarity=1.0,
            )
    if near:
        for i, j, sim in _near_pairs(_shingle_sets(tokenized, shingle_size), threshold, dropped):
            dropped[i] = Duplicate(
                index=i,
                id=names[i],
                reason="near",
                duplicate_of_index=j,
                duplicate_of=names[j],
                similarity=round(sim, 4),
            )
        # an exact copy of a text dropped as a near duplicate is a near duplicate of what
        # that text duplicates (the same text, so the same similarity)
        for i in sorted(dropped):
            target = dropped.get(dropped[i].duplicate_of_index)
            if dropped[i].reason == "exact" and target is not None:
                dropped[i] = target.model_copy(update={"index": i, "id": names[i]})
    kept = [i for i in range(len(items)) if i not in dropped]
    return DedupResult(
        kept=kept,
        kept_ids=[names[i] for i in kept],
        dropped=[dropped[i] for i in sorted(dropped)],
        threshold=threshold,
        shingle_size=shingle_size,
    )


def _near_pairs(
    sets: _ShingleSets, threshold: float, skip: dict[int, Any]
) -> list[tuple[int, int, float]]:
    """(index, kept index it duplicates, Jaccard) for each near duplicate, by prefix filtering."""
    sizes = np.diff(sets.starts).tolist()
    index: dict[int, list[int]] = {}
    found: list[tuple[int, int, float]] = []
    for i, size in enumerate(sizes):
        if i in skip or size == 0:
            continue
        own = sets.of(i)
        prefix = own[: size - math.ceil(threshold * size) + 1].tolist()
        lo, hi = threshold * size, size / threshold
        candidates = sorted({c for r in prefix for c in index.get(r, ()) if lo <= sizes[c] <= hi})
        best_j, best_sim = -1, -1.0
        for j in candidates:
            theirs = sets.of(j)
            pos = np.searchsorted(theirs, own)
            inter = int(np.count_nonzero(theirs[np.minimum(pos, len(theirs) - 1)] == own))
            sim = inter / (size + len(theirs) - inter)
            if sim > best_sim:
                best_j, best_sim = j, sim
        if best_j >= 0 and best_sim >= threshold:
            found.append((i, best_j, best_sim))
            continue
        for r in prefix:
            index.setdefault(r, []).append(i)
    return found
