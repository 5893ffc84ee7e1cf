"""data-service: datasets, tagging and training data."""

from __future__ import annotations

from fastapi import FastAPI
from tutorlab.jobs.queue import JobQueue
from tutorlab.service import ServiceSpec, create_service_app

from data_service.config import DataServiceSettings
from data_service.deps import start_resources
from data_service.jobs import JOB_PREFIX, KINDS, ROUTES
from data_service.routes import datasets, tagging, training_sets

SPEC = ServiceSpec(
    name="data-service",
    title="TutorLab data-service",
    job_prefix=JOB_PREFIX,
    routers=(datasets.router, tagging.router, training_sets.router),
    job_kinds=KINDS,
    job_routes=ROUTES,
    on_startup=(start_resources,),
)


def create_app(
    settings: DataServiceSettings | None = None, *, queue: JobQueue | None = None
) -> FastAPI:
    return create_service_app(SPEC, settings or DataServiceSettings(), queue=queue)
