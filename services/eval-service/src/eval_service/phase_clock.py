"""Seconds spent in each phase of a benchmark run, recorded in its results (``timing.phases``)."""

from __future__ import annotations

import time


class PhaseClock:
    """``mark(name)`` records the seconds since the previous mark (or the clock's start)."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._mark = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = round(now - self._mark, 4)
        self._mark = now
