"""eval-service: benchmark jobs, scoring and comparisons."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from tutorlab.jobs.queue import JobQueue
from tutorlab.service import ServiceSpec, create_service_app

from eval_service.config import EvalServiceSettings
from eval_service.deps import resources_hooks
from eval_service.jobs import JOB_PREFIX, KINDS, ROUTES
from eval_service.routes import benchmarks, comparisons, score, tasks


def service_spec(*, registry_transport: httpx.AsyncBaseTransport | None = None) -> ServiceSpec:
    """The eval-service; ``registry_transport`` (tests) mounts tutor-api in process."""
    startup, shutdown = resources_hooks(registry_transport=registry_transport)
    return ServiceSpec(
        name="eval-service",
        title="TutorLab eval-service",
        job_prefix=JOB_PREFIX,
        routers=(benchmarks.router, comparisons.router, score.router, tasks.router),
        job_kinds=KINDS,
        job_routes=ROUTES,
        on_startup=(startup,),
        on_shutdown=(shutdown,),
    )


def create_app(
    settings: EvalServiceSettings | None = None,
    *,
    queue: JobQueue | None = None,
    registry_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    return create_service_app(
        service_spec(registry_transport=registry_transport),
        settings or EvalServiceSettings(),
        queue=queue,
    )
