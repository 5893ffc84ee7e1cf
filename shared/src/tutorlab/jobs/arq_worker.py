"""A service's arq worker: its WorkerSettings, and the process that runs them.

``python -m <pkg>.worker`` runs a service's worker (``python -m <pkg>.worker_probe`` probes
it: :mod:`tutorlab.worker_health`). It is arq's worker, except that an idle worker waits for a
wake-up message on the queue's ``wake`` channel (published with every enqueue) instead of polling
Redis every few milliseconds, a busy worker does not re-check, at every poll, the jobs it is
running itself, a worker that loses Redis waits for it (not ready meanwhile) instead of exiting,
and its loop touches a liveness file as it turns.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from arq import Worker, create_pool, cron
from arq.connections import RedisSettings
from arq.worker import get_kwargs
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError
from sqlalchemy import inspect

from tutorlab.db import checkpoint, create_engine, session_factory
from tutorlab.jobs.queue import RUN_JOB, ArqJobQueue, redis_settings, wake_channel
from tutorlab.jobs.runtime import JobKind, WorkerRuntime, execute, reconcile
from tutorlab.jobs.store import JobStore
from tutorlab.logging import configure_logging
from tutorlab.settings import ServiceSettings
from tutorlab.worker_health import HEALTH_CHECK_INTERVAL_S, AliveFile, health_check_key

log = logging.getLogger("tutorlab.worker")

#: the ctx entry in which a :class:`WakeableWorker` gives its jobs how long arq marks a job it
#: picked up (reconcile needs it; see :func:`tutorlab.jobs.runtime.reconcile`)
IN_PROGRESS_TTL_CTX = "arq_in_progress_ttl_s"

#: a worker that cannot reach Redis tries again after this long, doubling up to the maximum
REDIS_RETRY_FIRST_S = 0.5
REDIS_RETRY_MAX_S = 5.0

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
) -> type:
    """The WorkerSettings class arq reads: one function, ``run_job``, plus a reconcile cron
    every ``job_reconcile_every_s``."""

    async def startup(ctx: dict[str, Any]) -> None:
        configure_logging(
            f"{settings.service_name}-worker",
            json_lines=settings.log_json,
            level=settings.log_level,
            secrets=[settings.api_key_value() or ""],
        )
        logging.getLogger("arq.worker").addFilter(QUIET_RECONCILE)
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
            in_progress_ttl_s=ctx.get(IN_PROGRESS_TTL_CTX),
        )
        # start-up objects (imported libraries, datasets) never die: keep them out of the
        # garbage collector's scans, which otherwise grow with everything imported
        gc.collect()
        gc.freeze()
        # collect young objects every 50,000 allocations instead of 700: a benchmark batch
        # allocates hundreds of thousands, and each full collection it triggered paused the
        # worker ~20 ms
        gc.set_threshold(50_000, 20, 10)
        log.info(
            "%s worker ready on queue %s (a dead worker's job runs again within %.0f s)",
            settings.service_name,
            settings.queue_name,
            settings.job_takeover_within_s,
        )

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
    # arq makes a cron unique per tick by its name (``<name>:<tick ms>`` is the arq job id, and
    # arq job ids are global in a Redis): named for the queue, each service's reconcile runs at
    # every tick, once among that service's workers, whatever other services share the Redis
    reconcile_cron = cron(
        reconcile_jobs,
        name=reconcile_cron_name(settings.queue_name),
        second=set(range(0, 60, settings.job_reconcile_every_s)),
        run_at_startup=True,
        timeout=60,
    )
    attrs: dict[str, Any] = {
        "functions": [run_job],
        "cron_jobs": [reconcile_cron],
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
        "health_check_interval": HEALTH_CHECK_INTERVAL_S,
        "health_check_key": health_check_key(settings.queue_name),
        "allow_abort_jobs": False,
        # not arq's: the file the worker's loop touches (create_worker passes it)
        "alive_file": settings.worker_alive_path,
    }
    return type("WorkerSettings", (), attrs)


RECONCILE_CRON_PREFIX = "cron:reconcile:"


def reconcile_cron_name(queue_name: str) -> str:
    """The reconcile cron's arq name for a queue (so each service's has its own identity)."""
    return f"{RECONCILE_CRON_PREFIX}{queue_name}"


class _QuietReconcile(logging.Filter):
    """Drops arq's start and end lines of each reconcile run (two lines every few seconds per
    worker); reconcile logs each job it re-enqueues, and a failed run is still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or not isinstance(record.args, tuple):
            return True
        return not any(
            isinstance(arg, str) and arg.startswith(RECONCILE_CRON_PREFIX) for arg in record.args
        )


QUIET_RECONCILE = _QuietReconcile()


class WakeableWorker(Worker):
    """arq's worker, woken by a message on ``<queue>:wake`` when a job is enqueued, and
    surviving Redis outages.

    Between polls it waits for that message for up to ``poll_delay`` seconds, so a new job
    starts within a millisecond or two while an idle or busy worker costs Redis and the CPU
    two polls a second. In burst mode (tests) it just sleeps ``poll_delay`` between polls.

    When Redis cannot be reached (at start or later) it logs once, tries again with a backoff
    (0.5 s doubling to 5 s) and, since it cannot refresh its health key, reports not ready;
    jobs it is running go on (their lease is in the database). Once Redis answers it records
    its health at once and runs its reconcile, which enqueues the jobs submitted meanwhile.

    With ``alive_file``, each turn of its loop touches that file (at most once a second), and
    so does a ticker while it starts (waiting for Redis, the database's tables, its start-up
    hook) until the loop's first turn: the liveness probe reads the file's age.
    """

    def __init__(self, *args: Any, alive_file: Path | None = None, **kwargs: Any) -> None:
        self.idle_poll_s = float(kwargs.pop("poll_delay", 0.5))
        # arq's own loop sleeps poll_delay between iterations; the waiting happens here instead
        super().__init__(*args, poll_delay=0, **kwargs)
        self.ctx[IN_PROGRESS_TTL_CTX] = self.in_progress_timeout_s
        self._wake: PubSub | None = None
        self._redis_down_since: float | None = None
        self._redis_retry_s = REDIS_RETRY_FIRST_S
        self.alive = AliveFile(alive_file) if alive_file is not None else None
        self._loop_turned = False

    async def main(self) -> None:
        starting = asyncio.create_task(self._alive_while_starting())
        try:
            await self._connect()
            await super().main()
        finally:
            starting.cancel()

    async def _connect(self) -> None:
        # one try per round (arq's own retries would log each one): the backoff is ours
        settings = dataclasses.replace(self.redis_settings or RedisSettings(), conn_retries=0)
        while self._pool is None:
            try:
                self._pool = await create_pool(
                    settings,
                    job_deserializer=self.job_deserializer,
                    job_serializer=self.job_serializer,
                    default_queue_name=self.queue_name,
                    expires_extra_ms=self.expires_extra_ms,
                )
            except (RedisError, OSError) as exc:
                await self._redis_unreachable(exc)
        self._redis_reachable()

    async def _alive_while_starting(self) -> None:
        while self.alive is not None and not self._loop_turned:
            self.alive.touch()
            await asyncio.sleep(self.alive.every_s)

    async def _poll_iteration(self) -> None:
        self._loop_turned = True
        if self.alive is not None:
            self.alive.touch()
        try:
            await super()._poll_iteration()
        except (RedisError, OSError) as exc:
            await self._redis_unreachable(exc)
            return
        self._redis_reachable()
        if self.burst:  # tests: run what is queued, then stop
            await asyncio.sleep(self.idle_poll_s)
        else:
            await self._wait_for_wake()

    async def _redis_unreachable(self, exc: BaseException) -> None:
        """Wait before the next try; the first failure of an outage is logged."""
        if self._redis_down_since is None:
            self._redis_down_since = asyncio.get_running_loop().time()
            log.warning(
                "Redis unreachable (%s: %s): not ready; retrying every %.1f-%.0f s",
                type(exc).__name__,
                exc,
                REDIS_RETRY_FIRST_S,
                REDIS_RETRY_MAX_S,
            )
        await self._close_wake()
        await self._sleep_alive(self._redis_retry_s)
        self._redis_retry_s = min(self._redis_retry_s * 2, REDIS_RETRY_MAX_S)

    async def _sleep_alive(self, seconds: float) -> None:
        """Sleep, touching the liveness file meanwhile: waiting for Redis is no hang."""
        deadline = asyncio.get_running_loop().time() + seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            if self.alive is not None:
                self.alive.touch()
            await asyncio.sleep(min(left, self.alive.every_s if self.alive else left))

    def _redis_reachable(self) -> None:
        if self._redis_down_since is None:
            return
        down_s = asyncio.get_running_loop().time() - self._redis_down_since
        self._redis_down_since, self._redis_retry_s = None, REDIS_RETRY_FIRST_S
        log.info("Redis reachable again after %.1f s", down_s)
        # arq's: record health at the next poll (not up to health_check_interval later) ...
        self._last_health_check = 0
        # ... and run the crons (reconcile: jobs submitted while Redis was down) at once
        for cron_job in self.cron_jobs:
            cron_job.next_run = None

    async def run_job(self, job_id: str, score: int) -> None:
        try:
            await super().run_job(job_id, score)
        except (RedisError, OSError) as exc:
            # arq's bookkeeping around the job (its try count, its result) could not reach
            # Redis; the job's outcome is in the database. Raised, it would end the poll that
            # reaps this task, after Redis is back, as if Redis were still down
            log.warning("job %s: arq could not record it in Redis: %s", job_id, exc)

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        # a running job stays in arq's queue until it ends: arq would re-check each one on
        # every poll (three Redis round trips) only to find it running here
        for job_id in job_ids:
            if job_id.decode() in self.tasks:
                continue
            if self.job_counter >= self.max_jobs:
                return
            try:
                await super().start_jobs([job_id])
            except (RedisError, OSError):
                # arq counted the job and took a slot before its Redis calls failed, and
                # gives neither back: without this, each outage would shrink max_jobs
                self.job_counter -= 1
                self.sem.release()
                raise

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
        """arq's close, except that a Redis that is down does not skip the shut-down hook
        (which closes the job resources: HTTP clients, math-verify processes)."""
        await self._close_wake()
        if self.alive is not None:
            self.alive.remove()
        if not self._handle_signals:
            self.handle_sig(signal.SIGUSR1)
        if self._pool is None:
            return
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await asyncio.wait_for(self.pool.delete(self.health_check_key), 3.0)
        if self.on_shutdown:
            await self.on_shutdown(self.ctx)
        await self.pool.aclose(close_connection_pool=True)
        self._pool = None


def create_worker(settings_cls: type, **overrides: Any) -> WakeableWorker:
    kwargs = {**get_kwargs(settings_cls), "alive_file": getattr(settings_cls, "alive_file", None)}
    return WakeableWorker(**{**kwargs, **overrides})


def run_worker_main(settings_cls: type, argv: Sequence[str] | None = None) -> None:
    """``python -m <pkg>.worker``: run the worker until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(
        description="Run this service's job worker.",
        epilog="Probe it with python -m <pkg>.worker_probe --alive (liveness) or --check "
        "(readiness).",
    )
    parser.parse_args(argv)
    create_worker(settings_cls).run()
