"""Paired tests for two runs scored on the same items.

* :func:`mcnemar_exact` — exact McNemar test: a two-sided binomial test on the discordant pairs.
* :func:`paired_proportion_difference` — difference of paired proportions with Newcombe's
  hybrid score interval (Newcombe 1998, Stat Med 17:2635, method 10): Wilson intervals for the
  two proportions, combined with the estimated correlation between them. It stays inside
  [-1, 1] and, unlike the Wald interval, is not degenerate when there are no discordant pairs.
* :func:`paired_bootstrap` — mean paired difference with a percentile bootstrap interval and
  a bootstrap p-value.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from fractions import Fraction
from typing import NamedTuple

import numpy as np
from scipy import stats as _scipy_stats

from eval_service.stats.intervals import check_confidence, wilson_interval

#: Up to this many discordant pairs the McNemar p-value is computed in exact rational
#: arithmetic; above it, with scipy's binomial CDF (relative error ~1e-15).
EXACT_MCNEMAR_LIMIT = 10_000
#: Bootstrap index matrices are drawn this many elements at a time (bounds memory; fixed so
#: that results do not depend on the machine).
BOOTSTRAP_CHUNK_ELEMENTS = 2_000_000


class PairedDifference(NamedTuple):
    """Candidate minus baseline proportion, with its confidence interval."""

    delta: float
    ci_low: float
    ci_high: float


class BootstrapResult(NamedTuple):
    """Mean paired difference (candidate − baseline), percentile interval and p-value."""

    delta: float
    ci_low: float
    ci_high: float
    p_value: float


def _count(value: int, name: str) -> int:
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer count, got {value!r}") from None
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {number}")
    return number


def _binomial_half_lower_tail(n: int, k: int) -> float:
    """P(X ≤ k) for X ~ Bin(n, 1/2)."""
    if n <= EXACT_MCNEMAR_LIMIT:
        term, total = 1, 1
        for i in range(1, k + 1):
            term = term * (n - i + 1) // i  # C(n, i), exact
            total += term
        return float(Fraction(total, 1 << n))
    return float(_scipy_stats.binom.cdf(k, n, 0.5))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for discordant counts ``b`` and ``c``.

    Under the null each discordant pair goes either way with probability 1/2, so
    p = min(1, 2·P(X ≤ min(b, c))) with X ~ Bin(b + c, 1/2); p = 1 when b + c = 0.
    """
    b, c = _count(b, "b"), _count(c, "c")
    n = b + c
    if n == 0:
        return 1.0
    return min(1.0, 2.0 * _binomial_half_lower_tail(n, min(b, c)))


def paired_proportion_difference(
    both: int,
    baseline_only: int,
    candidate_only: int,
    neither: int,
    confidence: float = 0.95,
) -> PairedDifference:
    """Candidate − baseline proportion of ``True`` over paired items, Newcombe interval.

    Arguments are the 2×2 paired counts: items true in both runs, only in the baseline, only in
    the candidate, in neither. With p_c, p_b the proportions, (l_c, u_c), (l_b, u_b) their
    Wilson intervals and φ the continuity-corrected phi coefficient of the table:
    low = δ − √((p_c − l_c)² − 2φ(p_c − l_c)(u_b − p_b) + (u_b − p_b)²),
    high = δ + √((p_b − l_b)² − 2φ(p_b − l_b)(u_c − p_c) + (u_c − p_c)²).
    """
    a = _count(both, "both")
    b = _count(baseline_only, "baseline_only")
    c = _count(candidate_only, "candidate_only")
    d = _count(neither, "neither")
    n = a + b + c + d
    if n == 0:
        raise ValueError("no paired items: all four counts are 0")
    check_confidence(confidence)
    cand_true, base_true = a + c, a + b
    p_c, p_b = cand_true / n, base_true / n
    delta = (c - b) / n
    l_c, u_c = wilson_interval(cand_true, n, confidence)
    l_b, u_b = wilson_interval(base_true, n, confidence)
    phi = _corrected_phi(a, b, c, d)
    lower_sq = (p_c - l_c) ** 2 - 2 * phi * (p_c - l_c) * (u_b - p_b) + (u_b - p_b) ** 2
    upper_sq = (p_b - l_b) ** 2 - 2 * phi * (p_b - l_b) * (u_c - p_c) + (u_c - p_c) ** 2
    low = delta - math.sqrt(max(0.0, lower_sq))
    high = delta + math.sqrt(max(0.0, upper_sq))
    return PairedDifference(delta, max(-1.0, low), min(1.0, high))


def _corrected_phi(a: int, b: int, c: int, d: int) -> float:
    """Phi coefficient of the paired table; a positive ad − bc is reduced by n/2 (floor 0)."""
    n = a + b + c + d
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    if margins == 0:
        return 0.0
    det = float(a * d - b * c)
    if det > 0:
        det = max(det - n / 2, 0.0)
    return det / math.sqrt(margins)


def _as_array(values: Sequence[float], name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of numbers: {exc}") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(f"{name}[{int(bad[0])}] is not a finite number: {array[bad[0]]!r}")
    return array


def paired_bootstrap(
    baseline: Sequence[float],
    candidate: Sequence[float],
    n_resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Paired bootstrap of the mean difference (candidate − baseline) over aligned items.

    Each resample draws the item indices with replacement (a seeded ``numpy`` Generator,
    vectorized in fixed-size chunks), so the result is a function of the inputs and ``seed``.
    The interval is the percentile interval of the resampled mean differences δ*. The two-sided
    p-value inverts that interval, with the +1 correction that keeps it above 0:
    p = min(1, 2·min((#{δ* ≤ 0} + 1)/(B + 1), (#{δ* ≥ 0} + 1)/(B + 1))), B = ``n_resamples``.
    Like any bootstrap it is unreliable with very few items (a handful of same-sign
    differences gives a tiny p-value).
    """
    base = _as_array(baseline, "baseline")
    cand = _as_array(candidate, "candidate")
    if base.size != cand.size:
        raise ValueError(
            f"baseline and candidate must pair item by item: {base.size} vs {cand.size} values"
        )
    n = int(base.size)
    if n == 0:
        raise ValueError("no paired items to bootstrap")
    if isinstance(n_resamples, bool) or _count(n_resamples, "n_resamples") < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    confidence = check_confidence(confidence)

    diffs = cand - base
    delta = float(diffs.mean())
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples, dtype=float)
    rows = max(1, BOOTSTRAP_CHUNK_ELEMENTS // n)
    for start in range(0, n_resamples, rows):
        stop = min(start + rows, n_resamples)
        indices = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = diffs[indices].mean(axis=1)

    tail = (1.0 - confidence) / 2.0
    ci_low, ci_high = (float(q) for q in np.quantile(means, [tail, 1.0 - tail]))
    at_most_zero = (int(np.count_nonzero(means <= 0.0)) + 1) / (n_resamples + 1)
    at_least_zero = (int(np.count_nonzero(means >= 0.0)) + 1) / (n_resamples + 1)
    p_value = min(1.0, 2.0 * min(at_most_zero, at_least_zero))
    return BootstrapResult(delta, ci_low, ci_high, p_value)
