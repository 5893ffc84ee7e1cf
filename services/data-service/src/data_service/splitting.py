"""Deterministic train/eval split, stratified by (primary topic, grade).

The stratum of an example is its first (most relevant) topic tag, optionally cut to
``topic_depth`` segments, with its grade; untagged examples share the topic ``"untagged"``.
Each stratum gives ``eval_fraction`` of its members to eval: the rounding is settled by largest
remainder so the eval side gets ``round(eval_fraction * n)`` of the examples in eligible strata,
and every stratum keeps at least one training example. A stratum with fewer than
``min_stratum_size`` members (default ``ceil(1 / eval_fraction)``) is too small to split and goes
wholly to train. Members are ordered by id before a shuffle seeded by ``seed`` and the stratum,
so the split does not depend on input order.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel
from tutorlab.curriculum.training_format import example_id

UNTAGGED = "untagged"
StratumKey = tuple[str, int]


class StratumCount(BaseModel):
    total: int
    eval: int


class SplitResult(BaseModel):
    train: list[int]  # indices, ascending
    eval: list[int]
    train_ids: list[str]
    eval_ids: list[str]
    seed: int
    eval_fraction: float
    strata: dict[str, StratumCount]  # "topic|grade" -> sizes
    too_small: list[str]  # strata sent wholly to train


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def stratum_of(item: Any, *, topic_depth: int | None = None) -> StratumKey:
    """(primary topic, grade) of an example, dict or object with ``topic_tags`` and ``grade``."""
    grade = _field(item, "grade")
    if isinstance(grade, bool) or not isinstance(grade, int):
        raise ValueError(f"grade must be an integer, got {grade!r}")
    tags = _field(item, "topic_tags") or []
    if not isinstance(tags, list | tuple):
        raise ValueError(f"topic_tags must be a list, got {type(tags).__name__}")
    topic = str(tags[0]) if tags else UNTAGGED
    if topic_depth is not None and topic != UNTAGGED:
        topic = ".".join(topic.split(".")[:topic_depth])
    return topic, grade


def _label(key: StratumKey) -> str:
    return f"{key[0]}|{key[1]}"


def stratified_split(
    items: Sequence[Any],
    *,
    eval_fraction: float = 0.1,
    seed: int = 0,
    ids: Sequence[str] | None = None,
    min_stratum_size: int | None = None,
    topic_depth: int | None = None,
    key: Callable[[Any], StratumKey] | None = None,
) -> SplitResult:
    """Split ``items`` into train and eval indices, stratified by (topic, grade).
    ``key`` replaces the default stratum (see :func:`stratum_of`)."""
    if not 0.0 < eval_fraction < 1.0:
        raise ValueError(f"eval_fraction must be in (0, 1), got {eval_fraction}")
    if ids is not None and len(ids) != len(items):
        raise ValueError(f"got {len(ids)} ids for {len(items)} items")
    min_size = min_stratum_size if min_stratum_size is not None else math.ceil(1 / eval_fraction)
    min_size = max(min_size, 2)
    names = (
        [str(x) for x in ids]
        if ids is not None
        else [example_id(x, i) for i, x in enumerate(items)]
    )

    groups: dict[StratumKey, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        try:
            stratum = key(item) if key is not None else stratum_of(item, topic_depth=topic_depth)
        except ValueError as exc:
            raise ValueError(f"item {i}: {exc}") from exc
        groups[stratum].append(i)

    ordered = sorted(groups, key=_label)
    eligible = [k for k in ordered if len(groups[k]) >= min_size]
    quotas = _allocate(eligible, groups, eval_fraction)

    eval_set: set[int] = set()
    strata: dict[str, StratumCount] = {}
    for k in ordered:
        members = sorted(groups[k], key=lambda i: (names[i], i))
        n_eval = quotas.get(k, 0)
        if n_eval:
            random.Random(f"{seed}|{_label(k)}").shuffle(members)
            eval_set.update(members[:n_eval])
        strata[_label(k)] = StratumCount(total=len(members), eval=n_eval)

    train = [i for i in range(len(items)) if i not in eval_set]
    evals = sorted(eval_set)
    return SplitResult(
        train=train,
        eval=evals,
        train_ids=[names[i] for i in train],
        eval_ids=[names[i] for i in evals],
        seed=seed,
        eval_fraction=eval_fraction,
        strata=strata,
        too_small=[_label(k) for k in ordered if len(groups[k]) < min_size],
    )


def _allocate(
    eligible: list[StratumKey], groups: dict[StratumKey, list[int]], fraction: float
) -> dict[StratumKey, int]:
    """Eval counts per stratum: floors of fraction*size, then the remaining
    round(fraction * total) by largest remainder (ties by stratum order); each stratum keeps
    at least one training example."""
    exact = {k: fraction * len(groups[k]) for k in eligible}
    quotas = {k: min(math.floor(v), len(groups[k]) - 1) for k, v in exact.items()}
    target = round(fraction * sum(len(groups[k]) for k in eligible))
    leftover = target - sum(quotas.values())
    by_remainder = sorted(eligible, key=lambda k: (-(exact[k] - math.floor(exact[k])), _label(k)))
    for k in by_remainder:
        if leftover <= 0:
            break
        if quotas[k] < len(groups[k]) - 1:
            quotas[k] += 1
            leftover -= 1
    return quotas
