"""MLflow through its own client (``mlflow-skinny``, the extra ``tutorlab[mlflow]``).

A TutorLab run is an MLflow run in one experiment (``MLFLOW_EXPERIMENT_NAME``, default
``tutorlab``), tagged ``tutorlab.key`` with its id so that a job resumed elsewhere finds it again.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutorlab.tracking.errors import TrackingUnavailable
from tutorlab.tracking.protocol import RunSpec, RunStatus
from tutorlab.tracking.values import flatten

if TYPE_CHECKING:
    from mlflow import MlflowClient

#: MLflow's limits (mlflow.utils.validation): key length, param value length, batch sizes
KEY_CHARS = 250
PARAM_CHARS = 6000
TAG_CHARS = 8000
PARAMS_PER_BATCH = 100
METRICS_PER_BATCH = 1000

KEY_TAG = "tutorlab.key"
STATUS = {"finished": "FINISHED", "failed": "FAILED", "killed": "KILLED"}


def mlflow_key(name: str) -> str:
    """A metric or param name MLflow accepts: letters, digits and ``_ - . : / space``;
    anything else (``pass@k``'s ``@``) becomes ``_``."""
    return re.sub(r"[^\w\-.: /]", "_", name)[:KEY_CHARS]


class MlflowTracker:
    backend = "mlflow"

    def __init__(self, tracking_uri: str | None, experiment: str) -> None:
        try:
            from mlflow import MlflowClient
            from mlflow.exceptions import MlflowException
        except ImportError as exc:
            raise TrackingUnavailable(
                "TUTORLAB_TRACKING=mlflow needs MLflow's client, which is not installed: "
                "install the extra (uv sync --extra mlflow, or pip install 'tutorlab[mlflow]') "
                "or set TUTORLAB_TRACKING=off"
            ) from exc
        try:
            # builds the store: MLflow refuses a store it cannot use (e.g. a file store
            # without MLFLOW_ALLOW_FILE_STORE=true) here, at start-up
            self.client: MlflowClient = MlflowClient(tracking_uri=tracking_uri)
        except MlflowException as exc:
            raise TrackingUnavailable(f"MLFLOW_TRACKING_URI: MLflow refuses it: {exc}") from exc
        self.experiment = experiment
        self._experiment_id: str | None = None
        self._lock = threading.Lock()

    def experiment_id(self) -> str:
        """The experiment's id, created on first use (once, whatever the threads)."""
        with self._lock:
            if self._experiment_id is None:
                found = self.client.get_experiment_by_name(self.experiment)
                self._experiment_id = (
                    found.experiment_id
                    if found is not None
                    else self.client.create_experiment(self.experiment)
                )
            return self._experiment_id

    def start_run(self, spec: RunSpec) -> MlflowRun:
        experiment_id = self.experiment_id()
        key = spec.key.replace("'", "")
        found = self.client.search_runs(
            [experiment_id], filter_string=f"tags.`{KEY_TAG}` = '{key}'", max_results=1
        )
        if found:
            run = found[0]
            self.client.update_run(run.info.run_id, status="RUNNING")
            logged = set(run.data.params)
        else:
            tags = {
                **spec.tags,
                KEY_TAG: spec.key,
                "tutorlab.kind": spec.kind,
                **({"tutorlab.group": spec.group} if spec.group else {}),
            }
            run = self.client.create_run(
                experiment_id,
                run_name=spec.name,
                tags={mlflow_key(k): str(v)[:TAG_CHARS] for k, v in tags.items()},
            )
            logged = set()
        tracked = MlflowRun(self.client, run.info.run_id)
        # a resumed run keeps the params it logged (MLflow refuses to change one)
        params = {
            mlflow_key(k): str(v)[:PARAM_CHARS]
            for k, v in flatten(spec.params).items()
            if mlflow_key(k) not in logged
        }
        tracked.log_params(params)
        return tracked


class MlflowRun:
    def __init__(self, client: MlflowClient, run_id: str) -> None:
        self.client = client
        self.run_id = run_id

    def log_params(self, params: Mapping[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(k, v) for k, v in params.items()]
        for start in range(0, len(items), PARAMS_PER_BATCH):
            self.client.log_batch(self.run_id, params=items[start : start + PARAMS_PER_BATCH])

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items: list[Any] = [Metric(mlflow_key(k), v, now, step) for k, v in metrics.items()]
        for start in range(0, len(items), METRICS_PER_BATCH):
            self.client.log_batch(self.run_id, metrics=items[start : start + METRICS_PER_BATCH])

    def log_artifact(self, path: Path) -> None:
        self.client.log_artifact(self.run_id, str(path))

    def finish(self, status: RunStatus) -> None:
        self.client.set_terminated(self.run_id, STATUS[status])
