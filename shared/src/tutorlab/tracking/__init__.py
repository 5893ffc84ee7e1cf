"""Optional experiment tracking: benchmark metrics and training curves also logged to MLflow or
Weights & Biases through their own SDKs (decision 0025).

``TUTORLAB_TRACKING`` (``off`` by default, ``mlflow``, ``wandb``) picks the backend; its SDK is
an extra (``tutorlab[mlflow]``, ``tutorlab[wandb]``), imported only when it is picked, and a
missing one stops the worker at start-up (:class:`TrackingUnavailable`). During a run nothing
about tracking can fail the run (:class:`TrackedRun`).
"""

from __future__ import annotations

import logging
import os

from tutorlab.settings import ServiceSettings
from tutorlab.tracking.errors import TrackingUnavailable
from tutorlab.tracking.protocol import RunSpec, RunStatus, Tracker, TrackingRun
from tutorlab.tracking.tracked import NullTracker, TrackedRun, Tracking, redact
from tutorlab.tracking.values import flatten, numeric

__all__ = [
    "NullTracker",
    "RunSpec",
    "RunStatus",
    "TrackedRun",
    "Tracker",
    "Tracking",
    "TrackingRun",
    "TrackingUnavailable",
    "flatten",
    "numeric",
    "tracking_for",
]

log = logging.getLogger("tutorlab.tracking")


def tracking_for(settings: ServiceSettings) -> Tracking:
    """The tracking ``settings`` ask for. Blocks (it imports the SDK): call it in a thread
    from async code. Raises :class:`TrackingUnavailable` when it cannot work here."""
    tracker: Tracker
    if settings.tracking == "mlflow":
        from tutorlab.tracking.mlflow_tracker import MlflowTracker

        tracker = MlflowTracker(settings.mlflow_tracking_uri, settings.mlflow_experiment_name)
        where = f"experiment {settings.mlflow_experiment_name!r} at " + (
            redact(settings.mlflow_tracking_uri or "MLflow's default store")
        )
    elif settings.tracking == "wandb":
        from tutorlab.tracking.wandb_tracker import WandbTracker

        tracker = WandbTracker(
            settings.wandb_project,
            settings.wandb_mode,
            None if os.environ.get("WANDB_DIR") else settings.data_dir,
        )
        where = f"project {settings.wandb_project!r} ({settings.wandb_mode or 'default'} mode)"
    else:
        return Tracking.off()
    log.info("tracking to %s: %s", settings.tracking, where)
    return Tracking(tracker, settings.tracking_timeout_s)
