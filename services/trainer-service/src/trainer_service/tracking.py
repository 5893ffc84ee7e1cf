"""A training run, also logged to MLflow or W&B when tracking is on (decision 0025).

One tracked run per training (named like its experiment folder, keyed by its training id, so a
run taken over by another worker goes on in the same tracked run): its params are the training
config, its metrics each step's row (loss, reward, evaluation, tokens and cost) at that step.
Tracking never fails the training: what went wrong is ``experiment.json``'s ``tracking_error``.
"""

from __future__ import annotations

from tutorlab.tracking import RunSpec, RunStatus

from trainer_service.training_config import TrainingConfig


def training_spec(
    training_id: str, name: str, config: TrainingConfig, base_model_id: str
) -> RunSpec:
    return RunSpec(
        key=training_id,
        name=name,
        kind="training",
        group=config.method,
        params={**config.model_dump(mode="json"), "base_model_id": base_model_id},
        tags={
            "tutorlab.training_id": training_id,
            "tutorlab.name": name,
            "tutorlab.method": config.method,
            "tutorlab.backend": config.backend,
        },
    )


def tracked_status(status: str) -> RunStatus:
    """The tracker's ending for the run's ``status`` (``succeeded``, ``cancelled``,
    ``failed: …``)."""
    if status == "succeeded":
        return "finished"
    return "killed" if status == "cancelled" else "failed"
