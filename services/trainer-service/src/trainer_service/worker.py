"""trainer-worker: ``arq trainer_service.worker.WorkerSettings``."""

from __future__ import annotations

from tutorlab.jobs.arq_worker import build_worker_settings

from trainer_service.app import SPEC
from trainer_service.config import TrainerServiceSettings
from trainer_service.jobs import KINDS


def worker_settings(settings: TrainerServiceSettings | None = None) -> type:
    return build_worker_settings(settings or TrainerServiceSettings(), KINDS, SPEC.job_prefix)


WorkerSettings = worker_settings()
