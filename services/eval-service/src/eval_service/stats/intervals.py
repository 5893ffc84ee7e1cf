"""Per-run metric summaries: mean, standard error and confidence interval.

Binary metrics (a verdict per item) use the Wilson score interval, which stays inside [0, 1]
and keeps near-nominal coverage for small n and proportions near 0 or 1, where the Wald
interval fails. Continuous metrics use the Student t interval on the mean.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy import stats as _scipy_stats

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

SummaryKind = Literal["auto", "binary", "continuous"]


class MetricSummary(BaseModel):
    """Mean of a metric over ``n`` items with its standard error and confidence interval.

    With no items every statistic is ``None``; with one continuous value the standard error
    and interval are ``None`` (a standard deviation needs two values).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int
    mean: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


def check_confidence(confidence: float) -> float:
    """``confidence`` as a float, or ValueError when it is not strictly between 0 and 1."""
    value = float(confidence)
    if not 0.0 < value < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return value


@functools.lru_cache(maxsize=64)
def normal_quantile(confidence: float) -> float:
    """Two-sided standard normal critical value (1.959964 for 0.95). Memoized: scipy's ppf
    costs ~0.1 ms a call, and a results file asks for the same value for every metric."""
    return float(_scipy_stats.norm.ppf(0.5 + check_confidence(confidence) / 2.0))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``successes`` out of ``n`` (``n`` ≥ 1).

    centre = (x + z²/2) / (n + z²); half-width = z·√n / (n + z²) · √(p̂(1 − p̂) + z²/(4n)).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    z = normal_quantile(confidence)
    p = successes / n
    z2 = z * z
    centre = (successes + z2 / 2.0) / (n + z2)
    half = z * math.sqrt(n) / (n + z2) * math.sqrt(p * (1.0 - p) + z2 / (4.0 * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _as_bool(value: object, where: str) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if value is None:
        raise ValueError(f"{where} is None: drop not-applicable items before summarizing")
    raise ValueError(f"{where} must be a bool, got {type(value).__name__} {value!r}")


def _as_float(value: object, where: str) -> float:
    if value is None:
        raise ValueError(f"{where} is None: drop not-applicable items before summarizing")
    if not isinstance(value, int | float | np.integer | np.floating | np.bool_):
        raise ValueError(f"{where} must be a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{where} must be finite, got {value!r}")
    return number


def summarize_binary(values: Sequence[bool], confidence: float = 0.95) -> MetricSummary:
    """Proportion of ``True`` with se = √(p(1 − p)/n) and the Wilson score interval."""
    flags = [_as_bool(value, f"values[{i}]") for i, value in enumerate(values)]
    return summarize_counts(sum(flags), len(flags), confidence)


def summarize_counts(successes: int, n: int, confidence: float = 0.95) -> MetricSummary:
    """:func:`summarize_binary` from counts: ``successes`` of ``n``."""
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    if n == 0:
        check_confidence(confidence)
        return MetricSummary(n=0)
    p = successes / n
    low, high = wilson_interval(successes, n, confidence)
    return MetricSummary(n=n, mean=p, se=math.sqrt(p * (1.0 - p) / n), ci_low=low, ci_high=high)


def summarize_continuous(values: Sequence[float], confidence: float = 0.95) -> MetricSummary:
    """Mean with se = sd/√n (sample sd, n − 1) and the Student t interval (n − 1 df)."""
    check_confidence(confidence)
    numbers = np.array(
        [_as_float(value, f"values[{i}]") for i, value in enumerate(values)], dtype=float
    )
    n = int(numbers.size)
    if n == 0:
        return MetricSummary(n=0)
    mean = float(numbers.mean())
    if n == 1:
        return MetricSummary(n=1, mean=mean)
    se = float(numbers.std(ddof=1)) / math.sqrt(n)
    t = float(_scipy_stats.t.ppf(0.5 + confidence / 2.0, df=n - 1))
    return MetricSummary(n=n, mean=mean, se=se, ci_low=mean - t * se, ci_high=mean + t * se)


def _resolve_kind(values: Iterable[object], kind: SummaryKind) -> Literal["binary", "continuous"]:
    if kind == "auto":
        return "binary" if all(isinstance(v, bool | np.bool_) for v in values) else "continuous"
    if kind not in ("binary", "continuous"):
        raise ValueError(f"kind must be 'auto', 'binary' or 'continuous', got {kind!r}")
    return kind


def breakdown(
    items: Iterable[T],
    key_fn: Callable[[T], K],
    value_fn: Callable[[T], bool | float | None],
    kind: SummaryKind = "auto",
    confidence: float = 0.95,
) -> dict[K, MetricSummary]:
    """One summary per group (``key_fn``) of the items' values (``value_fn``).

    ``None`` values are left out (a group of only ``None`` gets ``n == 0``). ``kind="auto"``
    treats the metric as binary when every value is a bool. Groups come sorted by key when the
    keys are comparable, otherwise in the order first seen.
    """
    groups: dict[K, list[bool | float]] = {}
    for item in items:
        values = groups.setdefault(key_fn(item), [])
        value = value_fn(item)
        if value is not None:
            values.append(value)
    resolved = _resolve_kind((v for vs in groups.values() for v in vs), kind)
    try:
        keys: list[K] = sorted(groups)  # type: ignore[type-var]
    except TypeError:
        keys = list(groups)
    summarize = summarize_binary if resolved == "binary" else summarize_continuous
    result: dict[K, MetricSummary] = {}
    for key in keys:
        try:
            result[key] = summarize(groups[key], confidence)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"group {key!r}: {exc}") from exc
    return result
