"""Where jobs are enqueued: arq on Redis, or an in-memory queue for API-only tests."""

from __future__ import annotations

from typing import Any, Protocol

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

#: every service's worker exposes exactly this arq function; it dispatches on the job's kind
RUN_JOB = "run_job"


class JobQueue(Protocol):
    async def enqueue(self, job_id: str, *, arq_job_id: str | None = None) -> bool:
        """Put a job on the queue; False when arq already holds a job with that id."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


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
        return job is not None

    async def ping(self) -> None:
        redis = await self._redis()
        await redis.ping()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


class InMemoryJobQueue:
    """Records what was enqueued; for tests of the API alone (no worker runs)."""

    def __init__(self) -> None:
        self.enqueued: list[dict[str, Any]] = []
        self.healthy = True

    async def enqueue(self, job_id: str, *, arq_job_id: str | None = None) -> bool:
        arq_id = arq_job_id or job_id
        if any(e["arq_job_id"] == arq_id for e in self.enqueued):
            return False
        self.enqueued.append({"job_id": job_id, "arq_job_id": arq_id})
        return True

    async def ping(self) -> None:
        if not self.healthy:
            raise ConnectionError("in-memory queue marked unhealthy")

    async def close(self) -> None:
        return None
