"""trainer-worker: ``python -m trainer_service.worker`` (``--check``: is one healthy?)."""

from __future__ import annotations

from tutorlab.jobs.arq_worker import build_worker_settings, run_worker_main

from trainer_service.app import SPEC
from trainer_service.config import TrainerServiceSettings
from trainer_service.jobs import KINDS


def worker_settings(settings: TrainerServiceSettings | None = None) -> type:
    return build_worker_settings(settings or TrainerServiceSettings(), KINDS, SPEC.job_prefix)


WorkerSettings = worker_settings()

if __name__ == "__main__":
    run_worker_main(WorkerSettings)
