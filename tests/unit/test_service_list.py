"""What each service is made of: a service that runs no jobs (tutor-api) has no jobs table, no
``/jobs`` routes and no Redis in its readiness; a worker starts without its service's app."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from tutor_api.app import create_app as create_tutor_app
from tutor_api.config import TutorApiSettings
from tutorlab.jobs.queue import InMemoryJobQueue
from tutorlab.jobs.runtime import JobContext, JobKind
from tutorlab.service import ServiceSpec, create_service_app

from tests.support import app_client, migrate

#: nothing listens here: a service that touched Redis would fail its readiness
NO_REDIS = "redis://127.0.0.1:1/0"


async def test_tutor_api_runs_no_jobs_and_is_ready_without_redis(tmp_path: Path) -> None:
    database = tmp_path / "tutor-api.db"
    url = f"sqlite+aiosqlite:///{database}"
    await migrate("tutor-api", url)
    with sqlite3.connect(database) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert "model_endpoints" in tables and "jobs" not in tables

    app = create_tutor_app(TutorApiSettings(database_url=url, redis_url=NO_REDIS))
    async with app_client(app) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok"}
        assert (await client.get("/jobs/tut_x")).status_code == 404
    assert not [path for path in app.openapi()["paths"] if path.startswith("/jobs")]


class NoParams(BaseModel):
    pass


async def nothing(ctx: JobContext) -> dict[str, Any]:
    return {}


def test_a_spec_with_job_kinds_needs_a_job_prefix() -> None:
    with pytest.raises(ValueError, match="job_prefix"):
        ServiceSpec(name="x", title="x", job_kinds={"n": JobKind("n", NoParams, nothing)})


def test_a_service_without_jobs_takes_no_queue() -> None:
    settings = TutorApiSettings(database_url="sqlite+aiosqlite:///:memory:")
    with pytest.raises(ValueError, match="runs no jobs"):
        create_service_app(ServiceSpec(name="x", title="x"), settings, queue=InMemoryJobQueue())


@pytest.mark.parametrize("package", ["eval_service", "data_service", "trainer_service"])
def test_a_worker_does_not_import_its_service_app(package: str) -> None:
    """The worker reads its job prefix and kinds from ``jobs.py``: the routes and the app's
    start-up objects stay out of the worker process."""
    code = f"import sys, {package}.worker; print('{package}.app' in sys.modules)"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert run.stdout.strip() == "False", run.stderr
