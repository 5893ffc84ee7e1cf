"""data-service: datasets, tagging and training data."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from tutorlab.jobs.queue import JobQueue
from tutorlab.service import ServiceSpec, create_service_app

from data_service.config import DataServiceSettings
from data_service.jobs import KINDS

SPEC = ServiceSpec(
    name="data-service", title="TutorLab data-service", job_prefix="dat", job_kinds=KINDS
)


def create_app(
    settings: DataServiceSettings | None = None,
    *,
    queue: JobQueue | None = None,
    http: httpx.AsyncClient | None = None,
    extras: dict[str, Any] | None = None,
) -> FastAPI:
    return create_service_app(
        SPEC, settings or DataServiceSettings(), queue=queue, http=http, extras=extras
    )
