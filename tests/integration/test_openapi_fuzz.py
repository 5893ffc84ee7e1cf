"""Each service's OpenAPI document is true: schemathesis generates requests from it (valid and
invalid ones) and every answer must be documented — its status code, content type, headers and
body — and none may be a 5xx.

The simulator's document is held to the same checks, on its own server.

The four services run as they do in production, wired to each other: real uvicorn servers (in
threads), migrated databases -- SQLite files in a temporary directory, then PostgreSQL databases
(which refuse what SQLite takes: a NUL in text, a value over a column's length) --, the real Redis
on a queue prefix of their own, and the API key set and sent. No worker runs, so a submitted job
stays queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import schemathesis
from data_service.app import create_app as create_data_app
from data_service.config import DataServiceSettings
from eval_service.app import create_app as create_eval_app
from eval_service.config import EvalServiceSettings
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from trainer_service.app import create_app as create_trainer_app
from trainer_service.config import TrainerServiceSettings
from tutor_api.app import create_app as create_tutor_app
from tutor_api.config import TutorApiSettings
from tutorlab.migrations import upgrade
from tutorlab.service.runner import version_table
from tutorlab.settings import ServiceSettings
from tutorlab_sim.app import create_app as create_sim_app
from tutorlab_sim.config import SimConfig

from tests.conftest import create_postgres_database, drop_postgres_database, no_postgres
from tests.support import REDIS_URL, migrations_dir, serve_in_thread, unique

pytestmark = pytest.mark.integration

KEY = "tl-fuzz-key-8d1e4b7a02c6"
#: examples per operation: enough to reach every documented answer, bounded for a slow CI machine
EXAMPLES = 12
#: the one 5xx a service sends by design: a model endpoint that failed (502 naming it and the
#: cause). The fuzz can reach it: it may register an endpoint at a made-up URL and activate it.
GATEWAY_ERROR = 502


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' ``not_a_server_error``, except for a documented 502 that names its cause."""
    if response.status_code == GATEWAY_ERROR:
        documented = str(GATEWAY_ERROR) in case.operation.definition.raw.get("responses", {})
        body = response.json()
        if documented and isinstance(body, dict) and body.get("cause"):
            return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

#: service -> (app factory, settings class), in start order: each may call the ones before it
SERVICES: dict[str, tuple[Callable[..., FastAPI], type[ServiceSettings]]] = {
    "tutor-api": (create_tutor_app, TutorApiSettings),
    "data-service": (create_data_app, DataServiceSettings),
    "eval-service": (create_eval_app, EvalServiceSettings),
    "trainer-service": (create_trainer_app, TrainerServiceSettings),
}
URL_FIELDS = {
    "tutor-api": "tutor_api_url",
    "data-service": "data_service_url",
    "eval-service": "eval_service_url",
    "trainer-service": "trainer_service_url",
}


#: a model endpoint the fuzz registered at a made-up URL fails at once, not after retries
FAST_FAILURE: dict[str, dict[str, Any]] = {
    "tutor-api": {
        "model_max_attempts": 1,
        "model_attempt_timeout_s": 2.0,
        "model_deadline_s": 4.0,
    }
}


#: POST /training-sets/validate takes the JSONL itself as the body: sent as text
schemathesis.serializer.alias("application/x-ndjson", "text/plain")


def _schema(name: str) -> Any:
    """The service's OpenAPI document as the app publishes it (settings do not change it)."""
    create_app, _ = SERVICES[name]
    return schemathesis.openapi.from_dict(create_app().openapi())


@contextlib.contextmanager
def fresh_database(kind: str, root: Path, name: str) -> Iterator[str]:
    """A service's empty database: a SQLite file under ``root``, or a PostgreSQL database
    (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{root / name}.db"
        return
    url = asyncio.run(create_postgres_database())
    if url is None:
        no_postgres()
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(url))


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, dataset_mirror: Path
) -> Iterator[dict[str, str]]:
    """The four services serving over HTTP; service -> base URL."""
    root = tmp_path_factory.mktemp("fuzz")
    prefix = unique("fuzz")
    urls: dict[str, str] = {}
    with contextlib.ExitStack() as servers:
        for name, (create_app, settings_class) in SERVICES.items():
            database_url = servers.enter_context(fresh_database(request.param, root, name))
            upgrade(migrations_dir(name), database_url, version_table(name))
            peers: dict[str, Any] = {URL_FIELDS[other]: url for other, url in urls.items()}
            service_settings = settings_class(
                database_url=database_url,
                api_key=KEY,
                redis_url=REDIS_URL,
                queue_prefix=prefix,
                data_dir=root / "data",
                outputs_dir=root / "outputs",
                dataset_mirror=dataset_mirror,
                **peers,
                **FAST_FAILURE.get(name, {}),
            )
            urls[name] = servers.enter_context(serve_in_thread(create_app(service_settings), name))
        yield urls
    client = redis.Redis.from_url(REDIS_URL)
    for queue in list(client.scan_iter(f"{prefix}*")):
        if client.type(queue) == b"zset":
            job_ids: list[bytes] = client.zrange(queue, 0, -1)  # type: ignore[assignment]
            for job_id in job_ids:
                client.delete(b"arq:job:" + job_id)
        client.delete(queue)
    client.close()
    shutil.rmtree(root, ignore_errors=True)


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same examples on every run: a CI failure can be reproduced
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


#: the longest long poll (``wait_s``) a fuzzed request may ask for: a job it finds stays queued
#: (no worker runs), so each such request would wait the whole time it asks for
MAX_WAIT_S = 0.5


def _call(case: Any, base_url: str) -> None:
    wait_s = (case.query or {}).get("wait_s")
    if isinstance(wait_s, int | float) and not isinstance(wait_s, bool) and wait_s > MAX_WAIT_S:
        case.query["wait_s"] = MAX_WAIT_S
    case.call_and_validate(
        base_url=base_url,
        headers={"Authorization": f"Bearer {KEY}"},
        checks=CHECKS,
        timeout=30,
    )


tutor_api = _schema("tutor-api")
data_service = _schema("data-service")
eval_service = _schema("eval-service")
trainer_service = _schema("trainer-service")


@tutor_api.parametrize()
@FUZZ
def test_tutor_api_spec_is_true(case: Any, stack: dict[str, str]) -> None:
    _call(case, stack["tutor-api"])


@data_service.parametrize()
@FUZZ
def test_data_service_spec_is_true(case: Any, stack: dict[str, str]) -> None:
    _call(case, stack["data-service"])


@eval_service.parametrize()
@FUZZ
def test_eval_service_spec_is_true(case: Any, stack: dict[str, str]) -> None:
    _call(case, stack["eval-service"])


@trainer_service.parametrize()
@FUZZ
def test_trainer_service_spec_is_true(case: Any, stack: dict[str, str]) -> None:
    _call(case, stack["trainer-service"])


simulator = schemathesis.openapi.from_dict(create_sim_app(SimConfig(dataset_mirror=None)).openapi())


@pytest.fixture(scope="module")
def sim_url(dataset_mirror: Path) -> Iterator[str]:
    """The simulator serving over HTTP, its API key set (no faults: its default)."""
    app = create_sim_app(SimConfig(api_key=KEY, dataset_mirror=dataset_mirror))
    with serve_in_thread(app, "simulator") as url:
        yield url


#: last in the module: the fuzz's PUT /sim/config may leave any config behind (its operations
#: run in document order, the chat routes first)
@simulator.parametrize()
@FUZZ
def test_simulator_spec_is_true(case: Any, sim_url: str) -> None:
    _call(case, sim_url)
