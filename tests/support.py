"""Helpers for tests that run services in-process against the real Redis and database."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from tutorlab.dev.devstack import free_port
from tutorlab.jobs.arq_worker import WakeableWorker
from tutorlab.migrations import upgrade
from tutorlab.service.runner import version_table

REDIS_URL = os.environ.get("TUTORLAB_TEST_REDIS_URL", "redis://localhost:6379/14")
POSTGRES_ADMIN_URL = os.environ.get(
    "TUTORLAB_TEST_POSTGRES_URL", "postgresql://postgres@localhost:5432/postgres"
)
SERVICES_DIR = Path(__file__).resolve().parents[1] / "services"


def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def migrations_dir(service: str) -> Path:
    package = service.replace("-", "_")
    return SERVICES_DIR / service / "src" / package / "migrations"


async def migrate(service: str, database_url: str) -> None:
    """Run a service's alembic migrations (in a thread: alembic's env uses asyncio.run)."""
    await asyncio.to_thread(upgrade, migrations_dir(service), database_url, version_table(service))


@asynccontextmanager
async def app_client(app: FastAPI, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on an app whose lifespan has run."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", **kwargs
        ) as client:
            yield client


async def run_worker(
    worker_settings: type, *, burst: bool = True, **overrides: Any
) -> WakeableWorker:
    """Run an arq worker built from a WorkerSettings class until its queue is empty."""
    options = {k: v for k, v in vars(worker_settings).items() if not k.startswith("_")}
    options.update(overrides)
    options.setdefault("poll_delay", 0.05)
    worker = WakeableWorker(burst=burst, handle_signals=False, **options)
    try:
        await worker.main()
    finally:
        await worker.close()
    return worker


@contextmanager
def serve_in_thread(app: FastAPI, name: str, **config: Any) -> Iterator[str]:
    """Serve an ASGI app over real HTTP on a free port, in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config)
    )
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, f"{name} did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
