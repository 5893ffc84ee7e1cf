"""Tracking for async code that must never fail because of it.

Every SDK call runs in a thread (``asyncio.to_thread``), bounded by ``tracking_timeout_s``. The
first call that raises or times out is logged once as a warning and kept as the run's
``tracking_error``; the run's later calls do nothing. The benchmark or training goes on.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tutorlab.tracking.protocol import RunSpec, RunStatus, Tracker, TrackingRun
from tutorlab.tracking.values import numeric

log = logging.getLogger("tutorlab.tracking")

T = TypeVar("T")

#: ``scheme://user:password@host`` in an SDK's error message loses its user and password
_USERINFO = re.compile(r"(\w+://)[^/@\s]+@")


def redact(text: str) -> str:
    return _USERINFO.sub(r"\1***@", text)


class NullRun:
    run_id = ""

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        return None

    def log_artifact(self, path: Path) -> None:
        return None

    def finish(self, status: RunStatus) -> None:
        return None


class NullTracker:
    """``TUTORLAB_TRACKING=off`` (the default): nothing is logged, nothing is recorded."""

    backend = "off"

    def start_run(self, spec: RunSpec) -> TrackingRun:
        return NullRun()


@dataclass(frozen=True)
class Tracking:
    """A service's tracker and how long one of its calls may take."""

    tracker: Tracker
    timeout_s: float = 30.0

    @classmethod
    def off(cls) -> Tracking:
        return cls(NullTracker())

    @property
    def enabled(self) -> bool:
        return self.tracker.backend != "off"

    async def start(self, spec: RunSpec) -> TrackedRun:
        """Start (or continue) ``spec``'s run; never raises (see :class:`TrackedRun`)."""
        tracked = TrackedRun(self.tracker.backend, spec.key, self.timeout_s)
        if self.enabled:
            tracked.run = await tracked.call("start", self.tracker.start_run, spec)
        return tracked


class TrackedRun:
    """One run in the tracker, from async code. No method raises; see the module doc."""

    def __init__(self, backend: str, key: str, timeout_s: float) -> None:
        self.backend = backend
        self.key = key
        self.timeout_s = timeout_s
        self.run: TrackingRun | None = None
        #: why the run stopped being tracked (None: it did not)
        self.error: str | None = None

    @property
    def active(self) -> bool:
        return self.backend != "off" and self.error is None

    async def call(self, what: str, fn: Callable[..., T], *args: Any) -> T | None:
        """``fn(*args)`` in a thread, unless the run already failed; None when it fails now."""
        if not self.active:
            return None
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args), self.timeout_s)
        except TimeoutError:
            self._failed(what, f"no answer in {self.timeout_s:g} s")
        except Exception as exc:
            self._failed(what, f"{type(exc).__name__}: {exc}")
        return None

    def _failed(self, what: str, why: str) -> None:
        self.error = redact(f"{self.backend} {what}: {why}")[:1000]
        log.warning("tracking of %s stopped, the run goes on untracked: %s", self.key, self.error)

    async def metrics(self, values: Mapping[str, Any], step: int) -> None:
        """Log the numeric ones of ``values`` at ``step`` (strings and None are left out)."""
        if self.run is None or not self.active:
            return
        plotted = numeric(values)
        if plotted:
            await self.call("log_metrics", self.run.log_metrics, plotted, step)

    async def artifact(self, path: Path) -> None:
        if self.run is not None:
            await self.call("log_artifact", self.run.log_artifact, path)

    async def finish(self, status: RunStatus) -> None:
        if self.run is not None:
            await self.call("finish", self.run.finish, status)

    def record(self) -> dict[str, Any]:
        """What a run's summary says about its tracking: nothing when tracking is off; else
        ``tracking`` (backend and run id) and, when it failed, ``tracking_error``."""
        if self.backend == "off":
            return {}
        fields: dict[str, Any] = {
            "tracking": {"backend": self.backend, "run_id": self.run.run_id if self.run else None}
        }
        if self.error is not None:
            fields["tracking_error"] = self.error
        return fields
