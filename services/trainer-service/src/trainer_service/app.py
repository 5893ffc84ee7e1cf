"""trainer-service: training runs on Tinker (or the simulated backend) and their experiments."""

from __future__ import annotations

from fastapi import FastAPI
from tutorlab.jobs.queue import JobQueue
from tutorlab.service import ServiceSpec, create_service_app

from trainer_service.config import TrainerServiceSettings
from trainer_service.jobs import JOB_PREFIX, KINDS, ROUTES
from trainer_service.routes import experiments, trainings

SPEC = ServiceSpec(
    name="trainer-service",
    title="TutorLab trainer-service",
    job_prefix=JOB_PREFIX,
    routers=(trainings.router, experiments.router),
    job_kinds=KINDS,
    job_routes=ROUTES,
)


def create_app(
    settings: TrainerServiceSettings | None = None, *, queue: JobQueue | None = None
) -> FastAPI:
    return create_service_app(SPEC, settings or TrainerServiceSettings(), queue=queue)
