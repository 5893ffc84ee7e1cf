"""Weights & Biases through its own SDK (``wandb``, the extra ``tutorlab[wandb]``).

A TutorLab run is a W&B run whose id is the TutorLab id (``resume="allow"``: a job resumed
elsewhere continues it), grouped by label or method, with ``job_type`` its kind. The API key is
the SDK's to read (``WANDB_API_KEY`` or its own login file); TutorLab never sees it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tutorlab.tracking.errors import TrackingUnavailable
from tutorlab.tracking.protocol import RunSpec, RunStatus


class WandbTracker:
    backend = "wandb"

    def __init__(self, project: str, mode: str | None, directory: Path | None) -> None:
        try:
            import wandb
        except ImportError as exc:
            raise TrackingUnavailable(
                "TUTORLAB_TRACKING=wandb needs the wandb SDK, which is not installed: install "
                "the extra (uv sync --extra wandb, or pip install 'tutorlab[wandb]') or set "
                "TUTORLAB_TRACKING=off"
            ) from exc
        self.wandb: Any = wandb
        self.project = project
        self.mode = mode
        #: where the SDK keeps its files (None: its default, ``WANDB_DIR`` or ``./wandb``)
        self.directory = directory
        # several jobs of one worker may start runs at once; the SDK's init is not for that
        self._lock = threading.Lock()

    def start_run(self, spec: RunSpec) -> WandbRun:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            run = self.wandb.init(
                project=self.project,
                id=spec.key,
                name=spec.name,
                group=spec.group,
                job_type=spec.kind,
                config={**spec.params, "tutorlab": dict(spec.tags)},
                mode=self.mode,
                dir=str(self.directory) if self.directory is not None else None,
                resume="allow",
                reinit="create_new",
            )
        return WandbRun(run, spec)


class WandbRun:
    def __init__(self, run: Any, spec: RunSpec) -> None:
        self.run = run
        self.run_id = str(run.id)
        self.spec = spec

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        self.run.log(dict(metrics), step=step)

    def log_artifact(self, path: Path) -> None:
        self.run.log_artifact(path, name=f"{self.spec.key}-{path.stem}", type=self.spec.kind)

    def finish(self, status: RunStatus) -> None:
        self.run.finish(exit_code=0 if status == "finished" else 1)
