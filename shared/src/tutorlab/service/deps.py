"""Dependencies a route can ask for. The state is built in the lifespan and closed at shutdown."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, TypeVar

import httpx
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from tutorlab.jobs.queue import JobQueue
from tutorlab.jobs.store import JobStore
from tutorlab.settings import ServiceSettings


@dataclass
class ServiceState:
    """What the lifespan builds for one service. ``job_queue`` and ``job_store`` are ``None`` for
    a service that runs no jobs (tutor-api): it needs no Redis and has no jobs table.

    ``resources`` holds what the service's own start-up hook built for its routes (stores with
    caches, clients with connection pools), one typed object that its ``deps.py`` reads back
    with :func:`resources_of`.
    """

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    #: a route's calls to other services (the trainer-service checks a config's data references)
    http: httpx.AsyncClient
    job_queue: JobQueue | None = None
    job_store: JobStore | None = None
    resources: object | None = None

    @property
    def queue(self) -> JobQueue:
        """The job queue; asking a service that runs no jobs for it is a programming error."""
        if self.job_queue is None:
            raise RuntimeError(f"{self.settings.service_name} runs no jobs: it has no job queue")
        return self.job_queue

    @property
    def jobs(self) -> JobStore:
        """The job store; asking a service that runs no jobs for it is a programming error."""
        if self.job_store is None:
            raise RuntimeError(f"{self.settings.service_name} runs no jobs: it has no job store")
        return self.job_store


def service_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


async def get_state(request: Request) -> ServiceState:
    """The service's state. Async (it awaits nothing): FastAPI runs a plain ``def`` dependency
    in its thread pool, a thread hop on every request."""
    return service_state(request)


State = Annotated[ServiceState, Depends(get_state)]

R = TypeVar("R")
S = TypeVar("S", bound=ServiceSettings)


def resources_of(state: ServiceState, kind: type[R]) -> R:
    """The service's resources as the type its start-up hook built, for its ``deps.py``."""
    resources = state.resources
    if not isinstance(resources, kind):
        raise RuntimeError(
            f"{state.settings.service_name}: no {kind.__name__} (has its start-up hook run?)"
        )
    return resources


def settings_of(state: ServiceState, kind: type[S]) -> S:
    """The service's settings as its own settings class, for its ``deps.py``."""
    settings = state.settings
    if not isinstance(settings, kind):
        raise RuntimeError(f"{settings.service_name}: settings are not {kind.__name__}")
    return settings


#: the API key as the OpenAPI document shows it (the check itself is :func:`require_api_key`'s)
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="TUTORLAB_API_KEY, required on mutating requests when the service has one set",
)


async def require_api_key(
    request: Request, _shown: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """When TUTORLAB_API_KEY is set, a mutating request needs ``Authorization: Bearer <key>``.
    Async for the same reason as :func:`get_state`."""
    expected = service_state(request).settings.api_key_value()
    if not expected:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing or invalid API key: send 'Authorization: Bearer <TUTORLAB_API_KEY>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


ApiKey = Depends(require_api_key)
