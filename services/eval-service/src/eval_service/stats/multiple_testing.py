"""Holm–Bonferroni step-down adjustment for a family of p-values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple


class HolmResult(NamedTuple):
    """Holm-adjusted p-value and whether it is at most ``alpha``."""

    adjusted_p: float
    significant: bool


def holm(p_values: Mapping[str, float], alpha: float = 0.05) -> dict[str, HolmResult]:
    """Holm step-down adjusted p-values, in the input's key order.

    With the m p-values sorted ascending, p(1) ≤ … ≤ p(m), the adjusted value of the i-th is
    min(1, max over j ≤ i of (m − j + 1)·p(j)): the running maximum keeps adjusted values in the
    same order as the raw ones. A hypothesis is significant when its adjusted p ≤ ``alpha``,
    which is Holm's rule (reject while p(j) ≤ alpha/(m − j + 1), stop at the first failure).
    """
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    for name, p in p_values.items():
        if not isinstance(p, int | float) or isinstance(p, bool) or math.isnan(p):
            raise ValueError(f"p-value {name!r} must be a number, got {p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p-value {name!r} must be between 0 and 1, got {p!r}")
    m = len(p_values)
    ordered = sorted(p_values.items(), key=lambda item: item[1])
    adjusted: dict[str, float] = {}
    running = 0.0
    for rank, (name, p) in enumerate(ordered):
        running = max(running, min(1.0, (m - rank) * float(p)))
        adjusted[name] = running
    return {name: HolmResult(adjusted[name], adjusted[name] <= alpha) for name in p_values}
