"""Injected faults and latency, drawn per request from an RNG seeded by ``fault_seed``."""

from __future__ import annotations

import math
import random

from tutorlab_sim.config import SimConfig

#: fault kinds, in the order their rates are stacked on one draw
FAULTS: tuple[str, ...] = ("rate_limit", "error", "timeout", "malformed", "stream_error")


class FaultInjector:
    """Picks at most one fault per request.

    One uniform draw is compared with the stacked rates (in ``FAULTS`` order), so each rate is the
    exact probability of its fault while the rates sum to at most 1 (later ones are squeezed out
    beyond that). ``stream_error`` only applies to streamed requests; a non-streamed request that
    draws it gets no fault. Latency comes from a second RNG, so it never shifts the fault sequence.
    """

    def __init__(self, config: SimConfig) -> None:
        self._config = config
        self._rng = random.Random(config.fault_seed)
        self._latency_rng = random.Random(f"latency:{config.fault_seed}")
        self._thresholds: list[tuple[float, str]] = []
        self.configure(config)

    def configure(self, config: SimConfig) -> None:
        """Use ``config`` from now on; a new ``fault_seed`` restarts both RNGs."""
        if config.fault_seed != self._config.fault_seed:
            self._rng = random.Random(config.fault_seed)
            self._latency_rng = random.Random(f"latency:{config.fault_seed}")
        self._config = config
        self._thresholds = []
        total = 0.0
        for name in FAULTS:
            rate = getattr(config, f"{name}_rate")
            if rate > 0:
                total += rate
                self._thresholds.append((total, name))

    def draw(self, stream: bool) -> str | None:
        """The fault for this request, or None."""
        if not self._thresholds:
            return None
        value = self._rng.random()
        for threshold, name in self._thresholds:
            if value < threshold:
                if name == "stream_error" and not stream:
                    return None
                return name
        return None

    def latency_s(self) -> float:
        """This request's injected latency in seconds (0 when none is configured)."""
        cfg = self._config
        if cfg.latency_ms <= 0 and cfg.latency_jitter_ms <= 0:
            return 0.0
        if cfg.latency_dist == "uniform":
            low = max(0.0, cfg.latency_ms - cfg.latency_jitter_ms)
            value = self._latency_rng.uniform(low, cfg.latency_ms + cfg.latency_jitter_ms)
        elif cfg.latency_dist == "lognormal" and cfg.latency_ms > 0:
            # median latency_ms; sigma chosen so jitter is about one (relative) standard deviation
            sigma = math.log1p(cfg.latency_jitter_ms / cfg.latency_ms)
            value = self._latency_rng.lognormvariate(math.log(cfg.latency_ms), sigma)
        else:
            value = cfg.latency_ms
        return value / 1000.0
