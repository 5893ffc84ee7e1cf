"""Retry policy: which failures to retry, how long to wait, and when to give up."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from random import random as _uniform

#: Statuses worth retrying besides 5xx: request timeout and rate limiting.
RETRYABLE_STATUSES = frozenset({408, 429})


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or 500 <= status <= 599


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and by a total deadline.

    ``attempt_timeout_s`` bounds one non-streamed attempt end to end (and, for a stream, the
    wait for its response headers and for each next piece of it); ``connect_timeout_s`` bounds
    opening a connection; ``deadline_s`` bounds all attempts and sleeps together. ``sleep``,
    ``random`` (uniform in [0, 1)) and ``clock`` (monotonic seconds) are injectable for tests.
    """

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    attempt_timeout_s: float = 120.0
    deadline_s: float = 600.0
    jitter: bool = True
    connect_timeout_s: float = 10.0
    sleep: Callable[[float], Awaitable[None]] = field(
        default=asyncio.sleep, repr=False, compare=False
    )
    random: Callable[[], float] = field(default=_uniform, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts: must be at least 1")
        for name in ("base_delay_s", "max_delay_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must not be negative")
        for name in ("attempt_timeout_s", "deadline_s", "connect_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be positive")

    def backoff(self, attempts_made: int) -> float:
        """Seconds to wait after ``attempts_made`` failed attempts (full jitter when enabled)."""
        cap = min(self.max_delay_s, self.base_delay_s * 2.0 ** (attempts_made - 1))
        return self.random() * cap if self.jitter else cap


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP-date (relative to
    ``now``, which should be the response's ``Date`` when it has one). None if unparseable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        when = parse_http_date(value)
        if when is None:
            return None
        reference = now if now is not None else datetime.now(UTC)
        return max(0.0, (when - reference).total_seconds())
    return max(0.0, seconds) if math.isfinite(seconds) else None


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP-date header as an aware datetime, or None."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
