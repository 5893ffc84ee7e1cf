"""data-worker: ``arq data_service.worker.WorkerSettings``."""

from __future__ import annotations

from tutorlab.jobs.arq_worker import build_worker_settings

from data_service.app import SPEC
from data_service.config import DataServiceSettings
from data_service.jobs import KINDS


def worker_settings(settings: DataServiceSettings | None = None) -> type:
    return build_worker_settings(settings or DataServiceSettings(), KINDS, SPEC.job_prefix)


WorkerSettings = worker_settings()
