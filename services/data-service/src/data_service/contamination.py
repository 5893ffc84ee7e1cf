"""Test-set contamination: n-gram overlap between training examples and benchmark test problems.

An index is built once from test records (GSM8K test, MATH test): every run of ``ngram``
normalized word tokens (default 13) of each test problem, hashed to 64 bits, maps to the test
problems holding it. A test problem shorter than ``ngram`` tokens is indexed whole, as one
n-gram of its own length, and matches only where a training text holds all of it in order.
A training example is flagged when it shares at least ``min_overlap`` n-grams with one test
problem (its text: prompt + response, or every message). Asymptote diagram code
(``[asy]...[/asy]``) is left out on both sides: it is drawing boilerplate shared by many MATH
problems, not problem text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel
from tutorlab.curriculum.training_format import example_id, example_text
from tutorlab.datasets.records import DatasetRecord

from data_service.dedup import iter_window_hashes, tokenize, tokenize_texts

_ASY = re.compile(r"\[asy\].*?(?:\[/asy\]|$)", re.S)
_FILTER_BITS = 24  # a 16 Mi-entry presence table screens hashes before the exact lookup


class FlaggedExample(BaseModel):
    index: int
    id: str
    test_id: str  # the test problem sharing the most n-grams
    test_ids: list[str]  # every test problem sharing at least one, most overlap first
    overlap_ngrams: int  # distinct n-grams shared with ``test_id``
    sample: str  # the first shared run of tokens, normalized


class ContaminationReport(BaseModel):
    ngram: int
    n_checked: int
    n_flagged: int
    flagged: list[FlaggedExample]
    kept: list[int]  # indices of the examples not flagged, in input order


class ContaminationIndex:
    """Hashed n-grams of test problems -> the test problems holding them."""

    def __init__(self, items: Iterable[tuple[str, str]], *, ngram: int = 13) -> None:
        """``items``: (test id, problem text) pairs."""
        if ngram < 1:
            raise ValueError(f"ngram must be positive, got {ngram}")
        self.ngram = ngram
        pairs = list(items)
        self.test_ids: list[str] = [test_id for test_id, _ in pairs]
        texts = tokenize_texts([_ASY.sub(" ", text) for _, text in pairs], symbols=False)
        lengths = texts.lengths
        hashes: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        for n, window, starts, doc in iter_window_hashes(texts, range(1, ngram + 1)):
            if n == ngram:
                keep = np.ones(len(window), dtype=bool)
            else:  # a short problem, taken whole: its only run starts at its first token
                keep = (lengths[doc] == n) & (starts == texts.offsets[doc])
            hashes.append(window[keep])
            owners.append(doc[keep])
        all_hashes = np.concatenate(hashes) if hashes else np.empty(0, np.uint64)
        all_owners = np.concatenate(owners) if owners else np.empty(0, np.int64)
        order = np.lexsort((all_owners, all_hashes))
        self._hashes = all_hashes[order]
        self._owners = all_owners[order]
        self.short_lengths = sorted({int(n) for n in lengths.tolist() if 0 < n < ngram})
        self.n_problems = len(pairs)
        self.n_ngrams = len(np.unique(self._hashes))
        self._filter = np.zeros(1 << _FILTER_BITS, dtype=bool)
        self._filter[self._hashes & np.uint64((1 << _FILTER_BITS) - 1)] = True

    @classmethod
    def from_records(
        cls, records: Iterable[DatasetRecord], *, ngram: int = 13
    ) -> ContaminationIndex:
        """Index test records by their question (problem) text; ids are the record ids."""
        return cls(((r.id, r.question) for r in records), ngram=ngram)

    def _lookup(self, values: np.ndarray) -> np.ndarray:
        """Positions (into ``values``) of the hashes present in the index."""
        mask = np.uint64((1 << _FILTER_BITS) - 1)
        maybe = np.flatnonzero(self._filter[values & mask])
        if len(maybe) == 0 or len(self._hashes) == 0:
            return maybe
        pos = np.searchsorted(self._hashes, values[maybe])
        pos = np.minimum(pos, len(self._hashes) - 1)
        present: np.ndarray = maybe[self._hashes[pos] == values[maybe]]
        return present

    def _owners_of(self, value: int) -> np.ndarray:
        lo = np.searchsorted(self._hashes, np.uint64(value), side="left")
        hi = np.searchsorted(self._hashes, np.uint64(value), side="right")
        return self._owners[lo:hi]

    def check(
        self,
        examples: Sequence[Any],
        *,
        ids: Sequence[str] | None = None,
        min_overlap: int = 1,
    ) -> ContaminationReport:
        """Flag the examples sharing at least ``min_overlap`` n-grams with one test problem.
        ``examples``: strings, training examples or their dicts; ids default to each
        example's ``id`` or else its index."""
        if ids is not None and len(ids) != len(examples):
            raise ValueError(f"got {len(ids)} ids for {len(examples)} examples")
        if min_overlap < 1:
            raise ValueError(f"min_overlap must be at least 1, got {min_overlap}")
        if ids is not None:
            names = [str(x) for x in ids]
        else:
            names = [example_id(x, i) for i, x in enumerate(examples)]
        texts = [_ASY.sub(" ", example_text(x)) for x in examples]
        tokenized = tokenize_texts(texts, symbols=False)

        # example -> hash -> (run length, first start)
        hits: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
        lengths = [*self.short_lengths, self.ngram]
        for n, window, starts, doc in iter_window_hashes(tokenized, lengths):
            for p in self._lookup(window).tolist():
                hits[int(doc[p])].setdefault(int(window[p]), (n, int(starts[p])))

        flagged: list[FlaggedExample] = []
        for i in sorted(hits):
            per_test: dict[int, list[int]] = defaultdict(list)
            for value in hits[i]:
                for owner in set(self._owners_of(value).tolist()):
                    per_test[owner].append(value)
            ranked = sorted(per_test.items(), key=lambda kv: (-len(kv[1]), self.test_ids[kv[0]]))
            best, shared = ranked[0]
            if len(shared) < min_overlap:
                continue
            first_start, neg_n = min((hits[i][v][1], -hits[i][v][0]) for v in shared)
            n = -neg_n
            local = first_start - int(tokenized.offsets[i])
            sample = " ".join(tokenize(texts[i], symbols=False)[local : local + n])
            flagged.append(
                FlaggedExample(
                    index=i,
                    id=names[i],
                    test_id=self.test_ids[best],
                    test_ids=[self.test_ids[o] for o, _ in ranked],
                    overlap_ngrams=len(shared),
                    sample=sample,
                )
            )
        flagged_set = {f.index for f in flagged}
        return ContaminationReport(
            ngram=self.ngram,
            n_checked=len(examples),
            n_flagged=len(flagged),
            flagged=flagged,
            kept=[i for i in range(len(examples)) if i not in flagged_set],
        )

    def drop_flagged(
        self, examples: Sequence[Any], **kwargs: Any
    ) -> tuple[list[Any], ContaminationReport]:
        """The examples that are not flagged (input order), and the report."""
        report = self.check(examples, **kwargs)
        return [examples[i] for i in report.kept], report
