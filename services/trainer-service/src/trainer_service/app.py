"""trainer-service: fine-tuning jobs on Tinker."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from tutorlab.jobs.queue import JobQueue
from tutorlab.service import ServiceSpec, create_service_app

from trainer_service.config import TrainerServiceSettings
from trainer_service.jobs import KINDS

SPEC = ServiceSpec(
    name="trainer-service", title="TutorLab trainer-service", job_prefix="train", job_kinds=KINDS
)


def create_app(
    settings: TrainerServiceSettings | None = None,
    *,
    queue: JobQueue | None = None,
    http: httpx.AsyncClient | None = None,
    extras: dict[str, Any] | None = None,
) -> FastAPI:
    return create_service_app(
        SPEC, settings or TrainerServiceSettings(), queue=queue, http=http, extras=extras
    )
