"""eval-worker: ``python -m eval_service.worker`` (its probes: ``eval_service.worker_probe``)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from tutorlab.db import session_factory
from tutorlab.jobs.arq_worker import ResourcesHook, build_worker_settings, run_worker_main
from tutorlab.registry_client import RegistryClient
from tutorlab.scoring import MathVerifier
from tutorlab.settings import ServiceSettings
from tutorlab.tracking import tracking_for

from eval_service.config import EvalServiceSettings
from eval_service.item_store import ItemStore
from eval_service.jobs import JOB_PREFIX, KINDS
from eval_service.resources import RESOURCES_KEY, EvalResources
from eval_service.scorers import Scorer
from eval_service.targets import TargetResolver


def resources_hooks(
    *,
    registry_transport: httpx.AsyncBaseTransport | None = None,
    model_transport: httpx.AsyncBaseTransport | None = None,
    data_transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[ResourcesHook, ResourcesHook]:
    """Start-up and shut-down hooks giving benchmark jobs their :class:`EvalResources`.

    The transports are for tests: tutor-api (the registry, and ``/chat`` for a run through
    it), the model servers and the data-service mounted in process.
    """

    async def startup(settings: ServiceSettings, resources: dict[str, Any]) -> None:
        assert isinstance(settings, EvalServiceSettings)
        # first: a tracker configured without its SDK stops the worker before anything starts
        tracking = await asyncio.to_thread(tracking_for, settings)
        sessions = session_factory(resources["engine"])
        verifier = MathVerifier(
            workers=settings.math_verify_workers, timeout_s=settings.math_verify_timeout_s
        )
        # spawn the math-verify processes now: they import and warm up while the worker waits
        # for jobs, instead of stalling the first MATH batch of the first job for seconds
        await asyncio.to_thread(verifier.start)
        api_key = settings.api_key_value()
        registry = RegistryClient(
            settings.tutor_api_url,
            api_key=api_key,
            transport=registry_transport,
            key_envs=settings.model_key_envs,
        )
        resources[RESOURCES_KEY] = EvalResources(
            settings=settings,
            sessions=sessions,
            items=ItemStore(sessions),
            targets=TargetResolver(
                registry,
                settings.tutor_api_url,
                api_key,
                model_transport=model_transport,
                tutor_api_transport=registry_transport,
            ),
            verifier=verifier,
            scorer=Scorer(verifier),
            data_http=httpx.AsyncClient(
                base_url=settings.data_service_url, timeout=30.0, transport=data_transport
            )
            if settings.use_data_service
            else None,
            tracking=tracking,
        )

    async def shutdown(settings: ServiceSettings, resources: dict[str, Any]) -> None:
        evals: EvalResources | None = resources.get(RESOURCES_KEY)
        if evals is not None:
            await evals.aclose()

    return startup, shutdown


def worker_settings(
    settings: EvalServiceSettings | None = None,
    *,
    registry_transport: httpx.AsyncBaseTransport | None = None,
    model_transport: httpx.AsyncBaseTransport | None = None,
    data_transport: httpx.AsyncBaseTransport | None = None,
) -> type:
    startup, shutdown = resources_hooks(
        registry_transport=registry_transport,
        model_transport=model_transport,
        data_transport=data_transport,
    )
    return build_worker_settings(
        settings or EvalServiceSettings(),
        KINDS,
        JOB_PREFIX,
        on_startup=startup,
        on_shutdown=shutdown,
    )


WorkerSettings = worker_settings()

if __name__ == "__main__":
    run_worker_main(WorkerSettings)
