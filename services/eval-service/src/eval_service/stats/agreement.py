"""Agreement between two binary raters (rule vs LLM judge): raw agreement and Cohen's kappa."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel


class Agreement(BaseModel):
    n: int
    agreement: float | None = None
    kappa: float | None = None
    #: counts of (rule, judge) outcomes: both true, rule only, judge only, both false
    both_true: int = 0
    first_only: int = 0
    second_only: int = 0
    both_false: int = 0


def binary_agreement(pairs: Sequence[tuple[bool, bool]]) -> Agreement:
    """Raw agreement and Cohen's kappa; kappa is None when chance agreement is 1 (no variation)."""
    n = len(pairs)
    if n == 0:
        return Agreement(n=0)
    a = sum(1 for x, y in pairs if x and y)
    b = sum(1 for x, y in pairs if x and not y)
    c = sum(1 for x, y in pairs if y and not x)
    d = n - a - b - c
    observed = (a + d) / n
    p_first, p_second = (a + b) / n, (a + c) / n
    expected = p_first * p_second + (1 - p_first) * (1 - p_second)
    kappa = None if expected >= 1 else (observed - expected) / (1 - expected)
    return Agreement(
        n=n, agreement=observed, kappa=kappa, both_true=a, first_only=b, second_only=c, both_false=d
    )
