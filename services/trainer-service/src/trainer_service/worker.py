"""trainer-worker: ``python -m trainer_service.worker`` (probes: ``.worker_probe``)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from tutorlab.db import session_factory
from tutorlab.jobs.arq_worker import ResourcesHook, build_worker_settings, run_worker_main
from tutorlab.settings import ServiceSettings
from tutorlab.tracking import tracking_for

from trainer_service.backend_choice import backend_for_config
from trainer_service.config import TrainerServiceSettings
from trainer_service.jobs import JOB_PREFIX, KINDS
from trainer_service.resources import RESOURCES_KEY, BackendFactory, TrainerResources
from trainer_service.run_store import RunStore


def resources_hooks(
    *,
    http_transport: httpx.AsyncBaseTransport | None = None,
    backend_factory: BackendFactory | None = None,
) -> tuple[ResourcesHook, ResourcesHook]:
    """Start-up and shut-down hooks giving training jobs their :class:`TrainerResources`.

    ``http_transport`` (tests) mounts tutor-api, the eval-service and the data-service in
    process; ``backend_factory`` swaps the training backend.
    """

    async def startup(settings: ServiceSettings, resources: dict[str, Any]) -> None:
        assert isinstance(settings, TrainerServiceSettings)
        # a tracker configured without its SDK stops the worker here, at start-up
        tracking = await asyncio.to_thread(tracking_for, settings)
        resources[RESOURCES_KEY] = TrainerResources(
            settings=settings,
            runs=RunStore(session_factory(resources["engine"])),
            http=httpx.AsyncClient(
                timeout=httpx.Timeout(60.0, connect=10.0), transport=http_transport
            ),
            backend_factory=backend_factory or backend_for_config,
            tracking=tracking,
        )

    async def shutdown(settings: ServiceSettings, resources: dict[str, Any]) -> None:
        trainer: TrainerResources | None = resources.get(RESOURCES_KEY)
        if trainer is not None:
            await trainer.aclose()

    return startup, shutdown


def worker_settings(
    settings: TrainerServiceSettings | None = None,
    *,
    http_transport: httpx.AsyncBaseTransport | None = None,
    backend_factory: BackendFactory | None = None,
) -> type:
    startup, shutdown = resources_hooks(
        http_transport=http_transport, backend_factory=backend_factory
    )
    return build_worker_settings(
        settings or TrainerServiceSettings(),
        KINDS,
        JOB_PREFIX,
        on_startup=startup,
        on_shutdown=shutdown,
    )


WorkerSettings = worker_settings()

if __name__ == "__main__":
    run_worker_main(WorkerSettings)
