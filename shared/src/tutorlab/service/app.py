"""The one app factory every service uses, so that knowing one service is knowing all."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse

from tutorlab import __version__
from tutorlab.db import create_engine, ping, session_factory
from tutorlab.jobs.queue import ArqJobQueue, JobQueue
from tutorlab.jobs.runtime import JobKind
from tutorlab.jobs.store import JobStore
from tutorlab.service.body_limit import BodyLimit
from tutorlab.service.deps import ServiceState
from tutorlab.service.errors import install_error_handlers
from tutorlab.service.jobs_api import jobs_router
from tutorlab.service.nul_chars import RefuseNul, refuse_nul_in_json_body
from tutorlab.service.responses import document_common_errors, errors
from tutorlab.settings import ServiceSettings

log = logging.getLogger("tutorlab.service")

StartupHook = Callable[[ServiceState], Awaitable[None]]


@dataclass
class ServiceSpec:
    """What makes one service different from the others.

    A service with ``job_kinds`` gets the jobs API, a job store (its ids start with
    ``job_prefix``) and the arq queue; one without gets none of them and needs no Redis.
    ``job_routes`` names the route that submits a kind (``{"benchmark": "POST /benchmarks"}``):
    such a kind is submitted there only, where its checks run, never through ``POST /jobs``.
    """

    name: str
    title: str
    routers: Sequence[APIRouter] = ()
    job_kinds: Mapping[str, JobKind] = field(default_factory=dict)
    job_routes: Mapping[str, str] = field(default_factory=dict)
    job_prefix: str = ""
    on_startup: Sequence[StartupHook] = ()
    on_shutdown: Sequence[StartupHook] = ()

    def __post_init__(self) -> None:
        if self.job_kinds and not self.job_prefix:
            raise ValueError(f"{self.name}: a service with job kinds needs a job_prefix")
        unknown = set(self.job_routes) - set(self.job_kinds)
        if unknown:
            raise ValueError(f"{self.name}: job_routes for unknown kinds {sorted(unknown)}")

    @property
    def runs_jobs(self) -> bool:
        return bool(self.job_kinds)


def create_service_app(
    spec: ServiceSpec,
    settings: ServiceSettings,
    *,
    queue: JobQueue | None = None,
) -> FastAPI:
    """A FastAPI app with health, readiness, the jobs API (when the service runs jobs) and the
    service's own routers.

    ``queue`` is injectable (tests pass an in-memory queue). What a service's routes use beyond
    the shared state, its ``on_startup`` hooks build into ``state.resources``.
    """
    if queue is not None and not spec.runs_jobs:
        raise ValueError(f"{spec.name} runs no jobs: it takes no queue")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.resolved_database_url)
        sessions = session_factory(engine)
        state = ServiceState(
            settings=settings,
            engine=engine,
            sessions=sessions,
            http=httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0)),
        )
        if spec.runs_jobs:
            state.job_queue = queue or ArqJobQueue(settings.redis_url, settings.queue_name)
            state.job_store = JobStore(sessions, spec.job_prefix)
        app.state.service = state
        for hook in spec.on_startup:
            await hook(state)
        try:
            yield
        finally:
            for hook in spec.on_shutdown:
                await hook(state)
            if state.job_queue is not None:
                await state.job_queue.close()
            await state.http.aclose()
            await engine.dispose()

    app = FastAPI(
        title=spec.title,
        version=__version__,
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul_in_json_body)],
    )
    install_error_handlers(app)
    prefix = str(settings.model_config.get("env_prefix", "")).upper()
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, setting=f"{prefix}MAX_BODY_BYTES"
    )
    app.add_middleware(RefuseNul)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok", "service": spec.name, "version": __version__}

    @app.get("/readyz", tags=["health"], responses=errors(503))
    async def readyz() -> JSONResponse:
        """What the service uses is reachable: its database, and Redis when it runs jobs (the
        queue); 503 naming whichever is not."""
        state: ServiceState = app.state.service
        checks: dict[str, str] = {}

        async def check(name: str, probe: Callable[[], Awaitable[Any]]) -> None:
            try:
                await asyncio.wait_for(probe(), 3.0)
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"unreachable: {type(exc).__name__}: {exc}"[:300]

        probes = [check("database", lambda: ping(state.engine))]
        if state.job_queue is not None:
            probes.append(check("redis", state.job_queue.ping))
        await asyncio.gather(*probes)
        failing = [name for name, value in checks.items() if value != "ok"]
        if failing:
            return JSONResponse(
                status_code=503,
                content={
                    "status": "unavailable",
                    "error": f"not ready: {', '.join(failing)} unreachable",
                    "checks": checks,
                },
            )
        return JSONResponse({"status": "ready", "service": spec.name, "checks": checks})

    if spec.runs_jobs:
        app.include_router(jobs_router(spec.job_kinds, spec.job_routes))
    for router in spec.routers:
        app.include_router(router)
    app.openapi = document_common_errors(app)  # type: ignore[method-assign]
    return app
