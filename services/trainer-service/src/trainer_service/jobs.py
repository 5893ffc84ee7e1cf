"""The job kinds trainer-service runs."""

from __future__ import annotations

from tutorlab.jobs.runtime import JobKind

from trainer_service.schemas import TrainingJobParams

TRAINING = "training"
#: ids of this service's jobs start with it (``train_…``); the service and its worker both use it
JOB_PREFIX = "train"


def _kinds() -> dict[str, JobKind]:
    from trainer_service.train_job import run_training

    return {
        TRAINING: JobKind(
            TRAINING,
            TrainingJobParams,
            run_training,
            "train a model from a config (SFT, distillation or RLVR), register it and benchmark it",
        )
    }


KINDS: dict[str, JobKind] = _kinds()
#: a training is submitted by POST /trainings only (it checks the config's data references)
ROUTES: dict[str, str] = {TRAINING: "POST /trainings"}
