"""tutor-api: the tutor's /chat and the model registry."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from tutorlab.service import ServiceSpec, ServiceState, create_service_app

from tutor_api.config import TutorApiSettings
from tutor_api.endpoint_clients import EndpointClients
from tutor_api.registry import Registry
from tutor_api.routes import chat, models


async def _startup(state: ServiceState) -> None:
    settings = state.settings
    retry = settings.retry_policy() if isinstance(settings, TutorApiSettings) else None
    state.extras.setdefault("registry", Registry(state.sessions))
    state.extras.setdefault("clients", EndpointClients(retry=retry))


async def _shutdown(state: ServiceState) -> None:
    await state.extras["clients"].aclose()


SPEC = ServiceSpec(
    name="tutor-api",
    title="TutorLab tutor-api",
    routers=(models.router, chat.router),
    on_startup=(_startup,),
    on_shutdown=(_shutdown,),
)


def create_app(
    settings: TutorApiSettings | None = None,
    *,
    http: httpx.AsyncClient | None = None,
    extras: dict[str, Any] | None = None,
) -> FastAPI:
    return create_service_app(SPEC, settings or TutorApiSettings(), http=http, extras=extras)
