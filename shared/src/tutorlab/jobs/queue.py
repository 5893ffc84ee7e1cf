"""Where jobs are enqueued: arq on Redis, or an in-memory queue for API-only tests.

Besides arq's queue, two Redis pub/sub channels per queue: ``<queue>:wake`` tells idle workers a
job was enqueued (so they need not poll Redis every few milliseconds), and ``<queue>:finished``
tells the service a job reached a final status (so a client can wait for it instead of polling).
Both are hints: a missed message costs latency (workers still poll, waiters re-read the
database), never a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix, retry_key_prefix
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError, WatchError

log = logging.getLogger("tutorlab.jobs.queue")

#: every service's worker exposes exactly this arq function; it dispatches on the job's kind
RUN_JOB = "run_job"


class JobQueue(Protocol):
    async def enqueue(self, job_id: str, *, arq_job_id: str | None = None) -> bool:
        """Put a job on the queue; False when arq already holds a job with that id."""

    async def release_stale_pickup(
        self, arq_job_id: str, *, picked_up_before_s: float, in_progress_ttl_s: float
    ) -> bool:
        """Let workers pick an arq job up again when the worker that picked it up more than
        ``picked_up_before_s`` ago never claimed it (it died in between); False when no worker
        holds it or one picked it up more recently. ``in_progress_ttl_s``: how long a worker
        marks a job it picks up (arq's ``in_progress_timeout_s``)."""

    async def notify_finished(self, job_id: str) -> None:
        """Tell waiters (see :meth:`finished`) that a job reached a final status."""

    def finished(self, job_id: str) -> contextlib.AbstractAsyncContextManager[asyncio.Event]:
        """An event set when :meth:`notify_finished` is called for the job while inside."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


def wake_channel(queue_name: str) -> str:
    return f"{queue_name}:wake"


def finished_channel(queue_name: str) -> str:
    return f"{queue_name}:finished"


class _Waiters:
    """Events by job id, set when that job is reported finished."""

    def __init__(self) -> None:
        self.by_job: dict[str, set[asyncio.Event]] = {}

    @contextlib.asynccontextmanager
    async def watch(self, job_id: str) -> AsyncIterator[asyncio.Event]:
        event = asyncio.Event()
        self.by_job.setdefault(job_id, set()).add(event)
        try:
            yield event
        finally:
            events = self.by_job.get(job_id)
            if events is not None:
                events.discard(event)
                if not events:
                    del self.by_job[job_id]

    def set(self, job_id: str) -> None:
        for event in self.by_job.get(job_id, ()):
            event.set()


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 3
    settings.conn_retries = 1
    return settings


class ArqJobQueue:
    """Jobs on a named arq queue; the arq job id is the job id (a takeover gets a suffix)."""

    def __init__(self, redis_url: str, queue_name: str) -> None:
        self.redis_url = redis_url
        self.queue_name = queue_name
        self._pool: ArqRedis | None = None
        self._waiters = _Waiters()
        self._listener: asyncio.Task[None] | None = None
        self._subscribed: asyncio.Event | None = None

    async def _redis(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(
                redis_settings(self.redis_url), default_queue_name=self.queue_name
            )
        return self._pool

    async def enqueue(self, job_id: str, *, arq_job_id: str | None = None) -> bool:
        redis = await self._redis()
        job = await redis.enqueue_job(
            RUN_JOB, job_id, _job_id=arq_job_id or job_id, _queue_name=self.queue_name
        )
        if job is not None:
            await redis.publish(wake_channel(self.queue_name), job_id)
        return job is not None

    async def release_stale_pickup(
        self, arq_job_id: str, *, picked_up_before_s: float, in_progress_ttl_s: float
    ) -> bool:
        """A worker that picks an arq job up marks it in progress (``arq:in-progress:<id>``,
        for ``in_progress_ttl_s``) before it claims the job in the database; killed in between,
        it leaves the job in arq's queue, marked, and no other worker takes it (nor can the job
        be enqueued again under that id) until the mark expires, a day later. The mark's age is
        what its TTL has run down; an old one goes, with arq's try count that the dead pick-up
        raised, in one transaction that fails if a worker touched the mark meanwhile."""
        redis = await self._redis()
        in_progress = in_progress_key_prefix + arq_job_id
        async with redis.pipeline(transaction=True) as pipe:
            await pipe.watch(in_progress)
            ttl_ms = await pipe.pttl(in_progress)
            if ttl_ms == -2:  # no mark: the job waits in the queue for a worker, or is done
                return False
            # -1: a mark without expiry (not arq's) would hold the job for ever
            age_s = in_progress_ttl_s - ttl_ms / 1000 if ttl_ms >= 0 else float("inf")
            if age_s < picked_up_before_s:  # picked up just now: its claim is on the way
                return False
            pipe.multi()
            pipe.delete(in_progress, retry_key_prefix + arq_job_id)
            try:
                await pipe.execute()
            except WatchError:
                return False
        await redis.publish(wake_channel(self.queue_name), arq_job_id)
        return True

    async def notify_finished(self, job_id: str) -> None:
        redis = await self._redis()
        await redis.publish(finished_channel(self.queue_name), job_id)

    @contextlib.asynccontextmanager
    async def finished(self, job_id: str) -> AsyncIterator[asyncio.Event]:
        """Subscribed before it yields, so a job that finishes after the caller's next read of
        its status is seen. If Redis is unreachable the event just never fires (callers bound
        their wait and re-read the database)."""
        async with self._waiters.watch(job_id) as event:
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await asyncio.wait_for(self._ensure_listener(), 2.0)
            yield event

    async def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._subscribed = asyncio.Event()
            self._listener = asyncio.create_task(self._listen(self._subscribed))
        assert self._subscribed is not None
        await self._subscribed.wait()

    async def _listen(self, subscribed: asyncio.Event) -> None:
        """One subscription per process, shared by every waiter; restarted by the next waiter
        if the connection drops."""
        redis = await self._redis()
        pubsub: PubSub = redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(finished_channel(self.queue_name))
            subscribed.set()
            async for message in pubsub.listen():
                data = message.get("data")
                if isinstance(data, bytes):
                    self._waiters.set(data.decode())
        except (RedisError, OSError) as exc:
            log.warning("job-finished subscription lost: %s", exc)
        finally:
            subscribed.set()  # never leave a waiter blocked on a subscription that failed
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def ping(self) -> None:
        redis = await self._redis()
        await redis.ping()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


class InMemoryJobQueue:
    """Records what was enqueued; for tests of the API alone (no worker runs)."""

    def __init__(self) -> None:
        self.enqueued: list[dict[str, Any]] = []
        self.finished_jobs: list[str] = []
        self.healthy = True
        self._waiters = _Waiters()

    async def enqueue(self, job_id: str, *, arq_job_id: str | None = None) -> bool:
        arq_id = arq_job_id or job_id
        if any(e["arq_job_id"] == arq_id for e in self.enqueued):
            return False
        self.enqueued.append({"job_id": job_id, "arq_job_id": arq_id})
        return True

    async def release_stale_pickup(
        self, arq_job_id: str, *, picked_up_before_s: float, in_progress_ttl_s: float
    ) -> bool:
        return False  # no worker picks anything up here

    async def notify_finished(self, job_id: str) -> None:
        self.finished_jobs.append(job_id)
        self._waiters.set(job_id)

    def finished(self, job_id: str) -> contextlib.AbstractAsyncContextManager[asyncio.Event]:
        return self._waiters.watch(job_id)

    async def ping(self) -> None:
        if not self.healthy:
            raise ConnectionError("in-memory queue marked unhealthy")

    async def close(self) -> None:
        return None
