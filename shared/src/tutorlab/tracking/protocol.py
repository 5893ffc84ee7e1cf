"""What a tracking backend offers: blocking calls, run off the event loop by :mod:`.tracked`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

#: how a tracked run ended
RunStatus = Literal["finished", "failed", "killed"]


@dataclass(frozen=True)
class RunSpec:
    """One tracked run: a benchmark run or a training run."""

    #: the TutorLab id (``bench_…``, ``train_…``): a job resumed on another worker logs to the
    #: run it started, not a new one
    key: str
    #: what the run is called in the tracker's UI
    name: str
    #: ``benchmark`` or ``training``
    kind: str
    #: what it belongs with: a benchmark's label, a training's method
    group: str | None = None
    #: its configuration (nested mappings allowed; each backend flattens as it needs)
    params: Mapping[str, Any] = field(default_factory=dict)
    #: short strings to find it by
    tags: Mapping[str, str] = field(default_factory=dict)


class TrackingRun(Protocol):
    """A run started in a tracker. Every method blocks (an SDK call) and may raise."""

    #: the tracker's own id of the run
    run_id: str

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None: ...

    def log_artifact(self, path: Path) -> None: ...

    def finish(self, status: RunStatus) -> None: ...


class Tracker(Protocol):
    """A tracking backend: ``off``, ``mlflow`` or ``wandb``."""

    backend: str

    def start_run(self, spec: RunSpec) -> TrackingRun:
        """Start ``spec``'s run, or continue it when one with its key exists (blocks)."""
        ...
