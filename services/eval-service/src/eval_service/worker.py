"""eval-worker: ``arq eval_service.worker.WorkerSettings``."""

from __future__ import annotations

from typing import Any

from tutorlab.jobs.arq_worker import build_worker_settings
from tutorlab.registry_client import RegistryClient
from tutorlab.settings import ServiceSettings

from eval_service.app import SPEC
from eval_service.config import EvalServiceSettings
from eval_service.jobs import KINDS


async def _startup(settings: ServiceSettings, resources: dict[str, Any]) -> None:
    resources["registry"] = RegistryClient(settings.tutor_api_url, api_key=settings.api_key_value())


async def _shutdown(settings: ServiceSettings, resources: dict[str, Any]) -> None:
    await resources["registry"].aclose()


def worker_settings(settings: EvalServiceSettings | None = None) -> type:
    return build_worker_settings(
        settings or EvalServiceSettings(),
        KINDS,
        SPEC.job_prefix,
        on_startup=_startup,
        on_shutdown=_shutdown,
    )


WorkerSettings = worker_settings()
