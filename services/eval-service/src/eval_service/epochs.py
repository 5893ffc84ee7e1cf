"""Epochs: a benchmark that samples each item N times, and the reducers that turn an item's
samples into one score per item (decision 0024).

``mean``
    every metric's mean over the item's scored samples (a fraction, compared as continuous);
``pass@k``
    the unbiased estimator of Chen et al. (2021), ``1 - C(n-c, k) / C(n, k)`` with ``n`` scored
    samples of which ``c`` are correct under the task's headline metric (None when ``n < k``);
``maj@k``
    majority vote over the first ``k`` scored samples' extracted answers (a reply with no
    extracted answer votes with its verdict): the headline metric of the winning answer; a
    tie goes to the answer voted for first, as ``collections.Counter.most_common`` orders it.

Samples are stored as items of their own: ``<item id>#<epoch>``, the epoch in the request.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from math import comb
from typing import Any

#: ``mean``, ``pass@k`` or ``maj@k``
REDUCER = re.compile(r"^(mean|pass@([1-9][0-9]*)|maj@([1-9][0-9]*))$")
SAMPLE_SEP = "#"


def check_reducers(reducers: Sequence[str], epochs: int) -> None:
    """ValueError naming ``reducers`` for an unknown reducer or a ``k`` above ``epochs``."""
    for reducer in reducers:
        match = REDUCER.match(reducer)
        if match is None:
            raise ValueError(
                f"reducers: unknown reducer {reducer!r}; known: mean, pass@k, maj@k (k >= 1)"
            )
        k = int(match.group(2) or match.group(3) or 0)
        if k > epochs:
            raise ValueError(f"reducers: {reducer!r} needs k <= epochs ({epochs})")
    if len(set(reducers)) != len(reducers):
        raise ValueError("reducers: each reducer once")


def reducer_k(reducer: str) -> int:
    return int(reducer.partition("@")[2] or 0)


def sample_id(item_id: str, epoch: int) -> str:
    return f"{item_id}{SAMPLE_SEP}{epoch}"


def base_id(stored_id: str) -> str:
    """The item id of a stored sample id (``<item id>#<epoch>``)."""
    return stored_id.rpartition(SAMPLE_SEP)[0]


def pass_at_k(n: int, c: int, k: int) -> float | None:
    """The unbiased pass@k estimate from ``n`` samples with ``c`` correct (None if n < k)."""
    if k < 1 or c < 0 or c > n:
        raise ValueError(f"pass@k needs 1 <= k and 0 <= c <= n (n={n}, c={c}, k={k})")
    if n < k:
        return None
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


@dataclass(frozen=True, slots=True)
class Sample:
    """One scored sample of an item: its epoch, metric values and the answer it votes for."""

    epoch: int
    metrics: Mapping[str, Any]
    vote: str | None


def maj_at_k(samples: Sequence[Sample], k: int, metric: str) -> bool | None:
    """The ``metric`` value of the majority answer among the first ``k`` samples by epoch
    (None when fewer than ``k`` were scored or the winner has no value)."""
    first = sorted(samples, key=lambda s: s.epoch)[:k]
    if len(first) < k:
        return None
    winner, _ = Counter(s.vote for s in first).most_common(1)[0]
    value = next(s.metrics.get(metric) for s in first if s.vote == winner)
    return None if value is None else bool(value)


def reduce_item(
    samples: Sequence[Sample], reducers: Sequence[str], headline: str
) -> dict[str, Any]:
    """An item's reduced scores: ``samples`` (how many were scored), ``mean`` (every metric),
    and the headline metric under each other reducer."""
    out: dict[str, Any] = {"samples": len(samples)}
    sums: dict[str, list[float]] = {}
    for sample in samples:
        for name, value in sample.metrics.items():
            if value is not None:
                sums.setdefault(name, []).append(float(value))
    out["mean"] = {name: sum(values) / len(values) for name, values in sums.items()}
    values = [s.metrics.get(headline) for s in samples]
    graded = [bool(v) for v in values if v is not None]
    for reducer in reducers:
        if reducer.startswith("pass@"):
            k = reducer_k(reducer)
            out[reducer] = pass_at_k(len(graded), sum(graded), k) if graded else None
        elif reducer.startswith("maj@"):
            out[reducer] = maj_at_k(samples, reducer_k(reducer), headline)
    return out


def sample_of(
    epoch: int, metrics: Mapping[str, Any], extracted: str | None, verdict: str | None
) -> Sample:
    """A sample's vote: its extracted answer, else its verdict (a tutoring reply, a refusal)."""
    vote = f"answer:{extracted}" if extracted is not None else f"verdict:{verdict}"
    return Sample(epoch, metrics, vote)


def group_records(records: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[Sample]]:
    """Scored items.jsonl records (per sample: ``epoch`` set) grouped by (task, item id)."""
    groups: dict[tuple[str, str], list[Sample]] = {}
    for record in records:
        if record.get("status") != "ok":
            continue
        epoch = record.get("epoch")
        sample = sample_of(
            int(epoch) if isinstance(epoch, int) else 0,
            record.get("metrics") or {},
            record.get("extracted"),
            record.get("verdict"),
        )
        groups.setdefault((str(record["task"]), str(record["id"])), []).append(sample)
    return groups


def reduced_scores(
    reduced: Mapping[str, Any], task: str, reducers: Sequence[str], headline: str
) -> dict[str, bool | float | None]:
    """An item's reduced scores as comparison metrics: ``<task>.<metric>`` (the mean) and
    ``<task>.<headline>.<reducer>`` for each other reducer."""
    scores: dict[str, bool | float | None] = {
        f"{task}.{name}": value for name, value in reduced["mean"].items()
    }
    for reducer in reducers:
        if reducer != "mean":
            scores[f"{task}.{headline}.{reducer}"] = reduced.get(reducer)
    return scores
