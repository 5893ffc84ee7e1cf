"""A service's arq worker: its WorkerSettings, and the process that runs them.

``python -m <pkg>.worker`` runs a service's worker (``--check`` asks whether one is healthy).
It is arq's worker, except that an idle worker waits for a wake-up message on the queue's
``wake`` channel (published with every enqueue) instead of polling Redis every few
milliseconds, and a busy worker does not re-check, at every poll, the jobs it is running itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from arq import Worker, cron
from arq.worker import check_health, get_kwargs
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError
from sqlalchemy import inspect

from tutorlab.db import checkpoint, create_engine, session_factory
from tutorlab.jobs.queue import RUN_JOB, ArqJobQueue, redis_settings, wake_channel
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
        # collect young objects every 50,000 allocations instead of 700: a benchmark batch
        # allocates hundreds of thousands, and each full collection it triggered paused the
        # worker ~20 ms
        gc.set_threshold(50_000, 20, 10)
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
        runtime: WorkerRuntime = ctx["runtime"]
        outcome = await execute(runtime, job_id)
        # the job is finished and announced; fold what it wrote into the database file now,
        # so the next job's commits don't stall on an automatic checkpoint
        await checkpoint(runtime.resources["engine"])
        return outcome

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
        # how often a worker looks for jobs when no wake-up comes (deferred retries, a
        # missed message); enqueued jobs wake it at once
        "poll_delay": 0.5,
        "max_tries": 5,
        "health_check_interval": 10,
        "health_check_key": f"{settings.queue_name}:health-check",
        "allow_abort_jobs": False,
    }
    return type("WorkerSettings", (), attrs)


class WakeableWorker(Worker):
    """arq's worker, woken by a message on ``<queue>:wake`` when a job is enqueued.

    Between polls it waits for that message for up to ``poll_delay`` seconds, so a new job
    starts within a millisecond or two while an idle or busy worker costs Redis and the CPU
    two polls a second. In burst mode (tests) it just sleeps ``poll_delay`` between polls.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.idle_poll_s = float(kwargs.pop("poll_delay", 0.5))
        # arq's own loop sleeps poll_delay between iterations; the waiting happens here instead
        super().__init__(*args, poll_delay=0, **kwargs)
        self._wake: PubSub | None = None

    async def _poll_iteration(self) -> None:
        await super()._poll_iteration()
        if self.burst:  # tests: run what is queued, then stop
            await asyncio.sleep(self.idle_poll_s)
        else:
            await self._wait_for_wake()

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        # a running job stays in arq's queue until it ends: arq would re-check each one on
        # every poll (three Redis round trips) only to find it running here
        await super().start_jobs([j for j in job_ids if j.decode() not in self.tasks])

    async def _wait_for_wake(self) -> None:
        try:
            if self._wake is None:
                self._wake = self.pool.pubsub(ignore_subscribe_messages=True)
                await self._wake.subscribe(wake_channel(self.queue_name))
            message = await self._wake.get_message(timeout=self.idle_poll_s)
            while message is not None:  # several enqueues at once: one poll reads them all
                message = await self._wake.get_message(timeout=0)
        except (RedisError, OSError) as exc:
            logging.getLogger("tutorlab.worker").warning("wake-up channel: %s", exc)
            await self._close_wake()
            await asyncio.sleep(self.idle_poll_s)

    async def _close_wake(self) -> None:
        wake, self._wake = self._wake, None
        if wake is not None:
            with contextlib.suppress(Exception):
                await wake.aclose()

    async def close(self) -> None:
        await self._close_wake()
        await super().close()


def create_worker(settings_cls: type, **overrides: Any) -> WakeableWorker:
    return WakeableWorker(**{**get_kwargs(settings_cls), **overrides})


def run_worker_main(settings_cls: type, argv: Sequence[str] | None = None) -> None:
    """``python -m <pkg>.worker [--check]``: run the worker, or exit 0 if one is healthy."""
    parser = argparse.ArgumentParser(description="Run this service's job worker.")
    parser.add_argument(
        "--check", action="store_true", help="exit 0 if a worker's health check is recent"
    )
    args = parser.parse_args(argv)
    if args.check:
        sys.exit(check_health(settings_cls))
    create_worker(settings_cls).run()
