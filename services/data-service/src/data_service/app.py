"""data-service: datasets, tagging and training data."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from tutorlab.curriculum.tagging import default_tagger
from tutorlab.jobs.queue import JobQueue
from tutorlab.service import ServiceSpec, ServiceState, create_service_app

from data_service.config import DataServiceSettings
from data_service.dataset_store import DatasetStore
from data_service.items import ItemIndex
from data_service.jobs import JOB_PREFIX, KINDS
from data_service.routes import datasets, tagging, training_sets
from data_service.training_sets import TrainingSetStore


async def _startup(state: ServiceState) -> None:
    await asyncio.to_thread(default_tagger)  # compile the tagger off the event loop, once
    store = DatasetStore(state.sessions, state.settings.data_dir)
    state.extras.setdefault("datasets", store)
    state.extras.setdefault("items", ItemIndex(store))
    state.extras.setdefault(
        "training_sets", TrainingSetStore(state.sessions, state.settings.data_dir)
    )


SPEC = ServiceSpec(
    name="data-service",
    title="TutorLab data-service",
    job_prefix=JOB_PREFIX,
    routers=(datasets.router, tagging.router, training_sets.router),
    job_kinds=KINDS,
    on_startup=(_startup,),
)


def create_app(
    settings: DataServiceSettings | None = None,
    *,
    queue: JobQueue | None = None,
    http: httpx.AsyncClient | None = None,
    extras: dict[str, Any] | None = None,
) -> FastAPI:
    return create_service_app(
        SPEC, settings or DataServiceSettings(), queue=queue, http=http, extras=extras
    )
