"""Paired comparison of two benchmark runs, metric by metric.

Only items scored in both runs are compared. A metric value of ``None`` (or a missing key)
means not applicable or errored: that item is left out of that metric's pairs, never counted
as a failure. Binary metrics use the exact McNemar test and Newcombe's paired interval;
continuous metrics use the paired bootstrap. p-values are Holm-adjusted across the metrics of
one comparison, and a metric's verdict follows its direction (higher or lower is better).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from eval_service.stats.intervals import check_confidence
from eval_service.stats.multiple_testing import holm
from eval_service.stats.paired import (
    mcnemar_exact,
    paired_bootstrap,
    paired_proportion_difference,
)

ItemId = str | int
ItemScores = Mapping[str, bool | float | None]
Id = TypeVar("Id", bound=str | int)

#: Below this many pairs a continuous metric's comparison carries a warning note.
FEW_PAIRS = 10


class MetricKind(StrEnum):
    binary = "binary"
    continuous = "continuous"


class Verdict(StrEnum):
    improvement = "improvement"
    regression = "regression"
    no_significant_change = "no significant change"
    #: nothing to test: no item has a value in both runs (e.g. a judge metric one run never
    #: computed); never read as "no significant change"
    not_compared = "not compared"


class MetricSpec(BaseModel):
    """How to compare one metric: its kind and which direction is better."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: MetricKind
    higher_is_better: bool = True


class MetricComparison(BaseModel):
    """One metric, candidate versus baseline, over the items both runs scored.

    ``baseline_mean`` and ``candidate_mean`` are over the paired items only, so
    ``delta = candidate_mean − baseline_mean``. Statistics are ``None`` when there are no pairs.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    kind: MetricKind
    higher_is_better: bool
    test: Literal["mcnemar_exact", "paired_bootstrap"]
    interval: Literal["newcombe_paired", "bootstrap_percentile"]
    n_pairs: int
    n_excluded: int = Field(description="common items left out: None or missing in either run")
    baseline_mean: float | None
    candidate_mean: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    adjusted_p_value: float | None = Field(description="Holm-adjusted across the comparison")
    significant: bool
    verdict: Verdict
    baseline_only_true: int | None = Field(
        default=None, description="binary: items true in the baseline only (discordant)"
    )
    candidate_only_true: int | None = Field(
        default=None, description="binary: items true in the candidate only (discordant)"
    )
    improved_item_ids: list[ItemId]
    regressed_item_ids: list[ItemId]
    note: str | None = None


class Comparison(BaseModel):
    """A candidate run compared with a baseline run: what ``comparison.json`` holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_baseline_items: int
    n_candidate_items: int
    n_common_items: int
    only_in_baseline: int
    only_in_candidate: int
    note: str | None
    alpha: float
    confidence: float
    n_resamples: int
    seed: int
    metrics: dict[str, MetricComparison]


def _id_order(item_id: ItemId) -> tuple[int, int | str]:
    return (0, item_id) if isinstance(item_id, int) else (1, str(item_id))


def _value(scores: ItemScores, metric: str, spec: MetricSpec, where: str) -> bool | float | None:
    value = scores.get(metric)
    if value is None:
        return None
    if spec.kind is MetricKind.binary:
        if not isinstance(value, bool | np.bool_):
            raise ValueError(
                f"{where}: metric {metric!r} is binary, expected a bool or None, "
                f"got {type(value).__name__} {value!r}"
            )
        return bool(value)
    if not isinstance(value, int | float | np.integer | np.floating | np.bool_):
        raise ValueError(
            f"{where}: metric {metric!r} is continuous, expected a number or None, "
            f"got {type(value).__name__} {value!r}"
        )
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(
            f"{where}: metric {metric!r} must be finite (use None for not applicable), "
            f"got {value!r}"
        )
    return number


def _set_note(baseline_count: int, candidate_count: int, common: int) -> str | None:
    only_base, only_cand = baseline_count - common, candidate_count - common
    if only_base == 0 and only_cand == 0:
        return None
    if common == 0:
        return "the runs share no items: nothing was compared"
    return (
        f"item sets differ: {only_base} only in the baseline, {only_cand} only in the "
        f"candidate; metrics compare the {common} items both runs scored"
    )


def compare_runs(
    baseline: Mapping[Id, ItemScores],
    candidate: Mapping[Id, ItemScores],
    metrics: Mapping[str, MetricSpec],
    *,
    alpha: float = 0.05,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> Comparison:
    """Compare ``candidate`` with ``baseline`` on every metric in ``metrics``.

    Items are paired by id over the intersection of the two runs, in a canonical order
    (integers, then strings), so the result does not depend on mapping order. ``alpha`` is the
    family-wise level of the Holm adjustment; ``confidence`` the level of each interval.
    """
    confidence = check_confidence(confidence)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    common = sorted(set(baseline) & set(candidate), key=_id_order)
    results: dict[str, MetricComparison] = {}
    for metric, spec in metrics.items():
        if not isinstance(spec, MetricSpec):
            raise ValueError(f"metrics[{metric!r}] must be a MetricSpec, got {spec!r}")
        pairs: list[tuple[ItemId, bool | float, bool | float]] = []
        for item_id in common:
            base = _value(baseline[item_id], metric, spec, f"baseline item {item_id!r}")
            cand = _value(candidate[item_id], metric, spec, f"candidate item {item_id!r}")
            if base is not None and cand is not None:
                pairs.append((item_id, base, cand))
        excluded = len(common) - len(pairs)
        if spec.kind is MetricKind.binary:
            results[metric] = _compare_binary(metric, spec, pairs, excluded, confidence)
        else:
            results[metric] = _compare_continuous(
                metric, spec, pairs, excluded, confidence, n_resamples, seed
            )

    tested = {name: r.p_value for name, r in results.items() if r.p_value is not None}
    adjusted = holm(tested, alpha=alpha)
    final: dict[str, MetricComparison] = {}
    for name, result in results.items():
        if name in adjusted:
            adj = adjusted[name]
            final[name] = result.model_copy(
                update={
                    "adjusted_p_value": adj.adjusted_p,
                    "significant": adj.significant,
                    "verdict": _verdict(result, adj.significant),
                }
            )
        else:
            final[name] = result
    return Comparison(
        n_baseline_items=len(baseline),
        n_candidate_items=len(candidate),
        n_common_items=len(common),
        only_in_baseline=len(baseline) - len(common),
        only_in_candidate=len(candidate) - len(common),
        note=_set_note(len(baseline), len(candidate), len(common)),
        alpha=alpha,
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
        metrics=final,
    )


def _verdict(result: MetricComparison, significant: bool) -> Verdict:
    if not significant or result.delta is None or result.delta == 0:
        return Verdict.no_significant_change
    better = (result.delta > 0) == result.higher_is_better
    return Verdict.improvement if better else Verdict.regression


def not_compared(metric: str, spec: MetricSpec, note: str, excluded: int = 0) -> MetricComparison:
    """A metric with no pairs: no statistic, the verdict ``not compared`` and why."""
    binary = spec.kind is MetricKind.binary
    return MetricComparison(
        metric=metric,
        kind=spec.kind,
        higher_is_better=spec.higher_is_better,
        test="mcnemar_exact" if binary else "paired_bootstrap",
        interval="newcombe_paired" if binary else "bootstrap_percentile",
        n_pairs=0,
        n_excluded=excluded,
        baseline_mean=None,
        candidate_mean=None,
        delta=None,
        ci_low=None,
        ci_high=None,
        p_value=None,
        adjusted_p_value=None,
        significant=False,
        verdict=Verdict.not_compared,
        improved_item_ids=[],
        regressed_item_ids=[],
        note=note,
    )


def _empty(metric: str, spec: MetricSpec, excluded: int) -> MetricComparison:
    return not_compared(
        metric, spec, "no item has a value for this metric in both runs: not tested", excluded
    )


def _compare_binary(
    metric: str,
    spec: MetricSpec,
    pairs: list[tuple[ItemId, bool | float, bool | float]],
    excluded: int,
    confidence: float,
) -> MetricComparison:
    if not pairs:
        return _empty(metric, spec, excluded)
    both = sum(1 for _, b, c in pairs if b and c)
    neither = sum(1 for _, b, c in pairs if not b and not c)
    gained = [item_id for item_id, b, c in pairs if c and not b]
    lost = [item_id for item_id, b, c in pairs if b and not c]
    n = len(pairs)
    diff = paired_proportion_difference(both, len(lost), len(gained), neither, confidence)
    improved, regressed = (gained, lost) if spec.higher_is_better else (lost, gained)
    return MetricComparison(
        metric=metric,
        kind=spec.kind,
        higher_is_better=spec.higher_is_better,
        test="mcnemar_exact",
        interval="newcombe_paired",
        n_pairs=n,
        n_excluded=excluded,
        baseline_mean=(both + len(lost)) / n,
        candidate_mean=(both + len(gained)) / n,
        delta=diff.delta,
        ci_low=diff.ci_low,
        ci_high=diff.ci_high,
        p_value=mcnemar_exact(len(lost), len(gained)),
        adjusted_p_value=None,
        significant=False,
        verdict=Verdict.no_significant_change,
        baseline_only_true=len(lost),
        candidate_only_true=len(gained),
        improved_item_ids=improved,
        regressed_item_ids=regressed,
    )


def _compare_continuous(
    metric: str,
    spec: MetricSpec,
    pairs: list[tuple[ItemId, bool | float, bool | float]],
    excluded: int,
    confidence: float,
    n_resamples: int,
    seed: int,
) -> MetricComparison:
    if not pairs:
        return _empty(metric, spec, excluded)
    base = [float(b) for _, b, _ in pairs]
    cand = [float(c) for _, _, c in pairs]
    boot = paired_bootstrap(base, cand, n_resamples=n_resamples, seed=seed, confidence=confidence)
    up = [item_id for item_id, b, c in pairs if c > b]
    down = [item_id for item_id, b, c in pairs if c < b]
    improved, regressed = (up, down) if spec.higher_is_better else (down, up)
    note = None
    if len(pairs) < FEW_PAIRS:
        note = f"only {len(pairs)} pairs: the bootstrap interval and p-value are unreliable"
    return MetricComparison(
        metric=metric,
        kind=spec.kind,
        higher_is_better=spec.higher_is_better,
        test="paired_bootstrap",
        interval="bootstrap_percentile",
        n_pairs=len(pairs),
        n_excluded=excluded,
        baseline_mean=float(np.mean(base)),
        candidate_mean=float(np.mean(cand)),
        delta=boot.delta,
        ci_low=boot.ci_low,
        ci_high=boot.ci_high,
        p_value=boot.p_value,
        adjusted_p_value=None,
        significant=False,
        verdict=Verdict.no_significant_change,
        improved_item_ids=improved,
        regressed_item_ids=regressed,
        note=note,
    )
