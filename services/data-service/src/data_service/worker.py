"""data-worker: ``python -m data_service.worker`` (its probes: ``data_service.worker_probe``)."""

from __future__ import annotations

from typing import Any

import httpx
from tutorlab.db import session_factory
from tutorlab.jobs.arq_worker import ResourcesHook, build_worker_settings, run_worker_main
from tutorlab.registry_client import RegistryClient
from tutorlab.settings import ServiceSettings

from data_service.config import DataServiceSettings
from data_service.dataset_store import DatasetStore
from data_service.jobs import JOB_PREFIX, KINDS
from data_service.model_access import ModelAccess
from data_service.resources import RESOURCES_KEY, DataResources


def resources_hooks(
    *,
    registry_transport: httpx.AsyncBaseTransport | None = None,
    model_transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[ResourcesHook, ResourcesHook]:
    """Start-up and shut-down hooks giving data jobs their :class:`DataResources`.

    The transports are for tests: tutor-api and model servers mounted in process.
    """

    async def startup(settings: ServiceSettings, resources: dict[str, Any]) -> None:
        assert isinstance(settings, DataServiceSettings)
        sessions = session_factory(resources["engine"])
        registry = RegistryClient(
            settings.tutor_api_url,
            api_key=settings.api_key_value(),
            transport=registry_transport,
            key_envs=settings.model_key_envs,
        )
        resources[RESOURCES_KEY] = DataResources(
            settings=settings,
            sessions=sessions,
            datasets=DatasetStore(sessions, settings.data_dir),
            models=ModelAccess(registry, model_transport=model_transport),
        )

    async def shutdown(settings: ServiceSettings, resources: dict[str, Any]) -> None:
        data: DataResources | None = resources.get(RESOURCES_KEY)
        if data is not None:
            await data.aclose()

    return startup, shutdown


def worker_settings(
    settings: DataServiceSettings | None = None,
    *,
    registry_transport: httpx.AsyncBaseTransport | None = None,
    model_transport: httpx.AsyncBaseTransport | None = None,
) -> type:
    startup, shutdown = resources_hooks(
        registry_transport=registry_transport, model_transport=model_transport
    )
    return build_worker_settings(
        settings or DataServiceSettings(),
        KINDS,
        JOB_PREFIX,
        on_startup=startup,
        on_shutdown=shutdown,
    )


WorkerSettings = worker_settings()

if __name__ == "__main__":
    run_worker_main(WorkerSettings)
