"""arq WorkerSettings for a service: ``arq <pkg>.worker.WorkerSettings`` runs it."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from arq import cron
from sqlalchemy import inspect

from tutorlab.db import create_engine, session_factory
from tutorlab.jobs.queue import RUN_JOB, ArqJobQueue, redis_settings
from tutorlab.jobs.runtime import JobKind, WorkerRuntime, execute, reconcile
from tutorlab.jobs.store import JobStore
from tutorlab.logging import configure_logging
from tutorlab.settings import ServiceSettings

log = logging.getLogger("tutorlab.worker")

ResourcesHook = Callable[[ServiceSettings, dict[str, Any]], Awaitable[None]]


async def wait_for_schema(engine: Any, table: str = "jobs", timeout_s: float = 120.0) -> None:
    """Workers don't migrate: they wait until the service has created its tables."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            async with engine.connect() as conn:
                names = await conn.run_sync(lambda c: inspect(c).get_table_names())
            if table in names:
                return
        except Exception as exc:
            log.info("waiting for the database: %s", exc)
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"table {table!r} not found: has the service run its migrations?")
        await asyncio.sleep(0.5)


def build_worker_settings(
    settings: ServiceSettings,
    kinds: Mapping[str, JobKind],
    job_prefix: str,
    *,
    on_startup: ResourcesHook | None = None,
    on_shutdown: ResourcesHook | None = None,
    reconcile_every_s: int = 10,
) -> type:
    """The WorkerSettings class arq reads: one function, ``run_job``, plus a reconcile cron."""

    async def startup(ctx: dict[str, Any]) -> None:
        configure_logging(
            f"{settings.service_name}-worker",
            json_lines=settings.log_json,
            level=settings.log_level,
            secrets=[settings.api_key_value() or ""],
        )
        engine = create_engine(settings.resolved_database_url)
        await wait_for_schema(engine)
        resources: dict[str, Any] = {"settings": settings, "engine": engine}
        if on_startup is not None:
            await on_startup(settings, resources)
        ctx["runtime"] = WorkerRuntime(
            store=JobStore(session_factory(engine), job_prefix),
            queue=ArqJobQueue(settings.redis_url, settings.queue_name),
            kinds=kinds,
            heartbeat_s=settings.job_heartbeat_s,
            stale_after_s=settings.job_stale_after_s,
            resources=resources,
        )
        # start-up objects (imported libraries, datasets) never die: keep them out of the
        # garbage collector's scans, which otherwise grow with everything imported
        gc.collect()
        gc.freeze()
        log.info("%s worker ready on queue %s", settings.service_name, settings.queue_name)

    async def shutdown(ctx: dict[str, Any]) -> None:
        runtime: WorkerRuntime | None = ctx.get("runtime")
        if runtime is None:
            return
        if on_shutdown is not None:
            await on_shutdown(settings, runtime.resources)
        await runtime.queue.close()
        await runtime.resources["engine"].dispose()

    async def run_job(ctx: dict[str, Any], job_id: str) -> str:
        return await execute(ctx["runtime"], job_id)

    async def reconcile_jobs(ctx: dict[str, Any]) -> int:
        return await reconcile(ctx["runtime"])

    run_job.__qualname__ = run_job.__name__ = RUN_JOB
    seconds = set(range(0, 60, max(1, min(reconcile_every_s, 59))))
    attrs: dict[str, Any] = {
        "functions": [run_job],
        "cron_jobs": [cron(reconcile_jobs, second=seconds, run_at_startup=True, timeout=60)],
        "queue_name": settings.queue_name,
        "redis_settings": redis_settings(settings.redis_url),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_jobs": settings.worker_max_jobs,
        "job_timeout": settings.job_timeout_s,
        "keep_result": 60,
        # how often an idle worker looks for new jobs (arq default 0.5 s)
        "poll_delay": 0.02,
        "max_tries": 5,
        "health_check_interval": 10,
        "health_check_key": f"{settings.queue_name}:health-check",
        "allow_abort_jobs": False,
    }
    return type("WorkerSettings", (), attrs)
