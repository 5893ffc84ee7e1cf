"""Request counters for ``GET /sim/stats``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tutorlab_sim.faults import FAULTS


class SimStats:
    """Counts requests by endpoint, injected fault and reply outcome."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests_total = 0
        self.by_endpoint: Counter[str] = Counter()
        self.by_fault: Counter[str] = Counter()
        self.by_outcome: Counter[str] = Counter()

    def hit(self, endpoint: str) -> None:
        self.requests_total += 1
        self.by_endpoint[endpoint] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests_total": self.requests_total,
            "by_endpoint": dict(self.by_endpoint),
            "by_fault": {name: self.by_fault.get(name, 0) for name in FAULTS},
            "by_outcome": dict(self.by_outcome),
        }
