"""eval-worker: ``python -m eval_service.worker`` (``--check``: is one healthy?)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from tutorlab.db import session_factory
from tutorlab.jobs.arq_worker import build_worker_settings, run_worker_main
from tutorlab.registry_client import RegistryClient
from tutorlab.scoring import MathVerifier
from tutorlab.settings import ServiceSettings

from eval_service.config import EvalServiceSettings
from eval_service.item_store import ItemStore
from eval_service.jobs import JOB_PREFIX, KINDS
from eval_service.scorers import Scorer


async def _startup(settings: ServiceSettings, resources: dict[str, Any]) -> None:
    assert isinstance(settings, EvalServiceSettings)
    sessions = session_factory(resources["engine"])
    verifier = MathVerifier(
        workers=settings.math_verify_workers, timeout_s=settings.math_verify_timeout_s
    )
    # spawn the math-verify processes now: they import and warm up while the worker waits for
    # jobs, instead of stalling the first MATH batch of the first job for seconds
    await asyncio.to_thread(verifier.start)
    resources.update(
        sessions=sessions,
        items=ItemStore(sessions),
        registry=RegistryClient(settings.tutor_api_url, api_key=settings.api_key_value()),
        data_http=httpx.AsyncClient(base_url=settings.data_service_url, timeout=30.0)
        if settings.use_data_service
        else None,
        verifier=verifier,
        scorer=Scorer(verifier),
    )


async def _shutdown(settings: ServiceSettings, resources: dict[str, Any]) -> None:
    await resources["registry"].aclose()
    if resources.get("data_http") is not None:
        await resources["data_http"].aclose()
    resources["verifier"].close()


def worker_settings(settings: EvalServiceSettings | None = None) -> type:
    return build_worker_settings(
        settings or EvalServiceSettings(),
        KINDS,
        JOB_PREFIX,
        on_startup=_startup,
        on_shutdown=_shutdown,
    )


WorkerSettings = worker_settings()

if __name__ == "__main__":
    run_worker_main(WorkerSettings)
