"""Every service in process on a migrated SQLite database, for tests that go through all four:
the services, their test key, and the routes their OpenAPI documents list. The fixtures
``templates`` and ``service_client`` (tests/unit/conftest.py) build them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_service.app import create_app as create_data_app
from data_service.config import DataServiceSettings
from eval_service.app import create_app as create_eval_app
from eval_service.config import EvalServiceSettings
from fastapi import FastAPI
from trainer_service.app import create_app as create_trainer_app
from trainer_service.config import TrainerServiceSettings
from tutor_api.app import create_app as create_tutor_app
from tutor_api.config import TutorApiSettings
from tutorlab.jobs.queue import InMemoryJobQueue
from tutorlab.settings import ServiceSettings

KEY = "tl-test-key-5f0c2a9e71d4"
MUTATING = ("POST", "PATCH", "PUT", "DELETE")


@dataclass(frozen=True)
class Service:
    create_app: Callable[..., FastAPI]
    settings: type[ServiceSettings]
    runs_jobs: bool = True


SERVICES = {
    "tutor-api": Service(create_tutor_app, TutorApiSettings, runs_jobs=False),
    "eval-service": Service(create_eval_app, EvalServiceSettings),
    "data-service": Service(create_data_app, DataServiceSettings),
    "trainer-service": Service(create_trainer_app, TrainerServiceSettings),
}


def service_app(
    name: str, database_url: str, tmp_path: Path, api_key: str | None = KEY, **overrides: Any
) -> FastAPI:
    """Service ``name`` on a migrated ``database_url``, its job queue in memory (no Redis) and
    every service it would call unreachable."""
    service = SERVICES[name]
    settings = service.settings(
        database_url=database_url,
        api_key=api_key,
        data_dir=tmp_path / "data",
        outputs_dir=tmp_path / "outputs",
        redis_url="redis://127.0.0.1:1/0",  # never used: the queue is in memory
        tutor_api_url="http://127.0.0.1:1",
        **overrides,
    )
    queue = {"queue": InMemoryJobQueue()} if service.runs_jobs else {}
    return service.create_app(settings, **queue)


def routes(app: FastAPI, methods: tuple[str, ...]) -> list[tuple[str, str, bool]]:
    """(method, concrete path, takes a JSON body) for every API operation in ``methods``.

    Read from the OpenAPI document: it lists the routes of included routers too.
    """
    found = []
    for template, operations in app.openapi()["paths"].items():
        path = re.sub(r"\{[^}]+\}", "x1", template)
        for method, operation in operations.items():
            if method.upper() in methods:
                found.append((method.upper(), path, "requestBody" in operation))
    return found
