"""eval-service: benchmark jobs, scoring and comparisons."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from tutorlab.jobs.queue import JobQueue
from tutorlab.registry_client import RegistryClient
from tutorlab.service import ServiceSpec, ServiceState, create_service_app

from eval_service.config import EvalServiceSettings
from eval_service.item_store import ItemStore
from eval_service.jobs import JOB_PREFIX, KINDS
from eval_service.routes import benchmarks, comparisons, score


async def _startup(state: ServiceState) -> None:
    settings = state.settings
    state.extras.setdefault("items", ItemStore(state.sessions))
    state.extras.setdefault(
        "registry", RegistryClient(settings.tutor_api_url, api_key=settings.api_key_value())
    )


async def _shutdown(state: ServiceState) -> None:
    await state.extras["registry"].aclose()
    verifier = state.extras.get("verifier")
    if verifier is not None:
        verifier.close()


SPEC = ServiceSpec(
    name="eval-service",
    title="TutorLab eval-service",
    job_prefix=JOB_PREFIX,
    routers=(benchmarks.router, comparisons.router, score.router),
    job_kinds=KINDS,
    on_startup=(_startup,),
    on_shutdown=(_shutdown,),
)


def create_app(
    settings: EvalServiceSettings | None = None,
    *,
    queue: JobQueue | None = None,
    http: httpx.AsyncClient | None = None,
    extras: dict[str, Any] | None = None,
) -> FastAPI:
    return create_service_app(
        SPEC, settings or EvalServiceSettings(), queue=queue, http=http, extras=extras
    )
