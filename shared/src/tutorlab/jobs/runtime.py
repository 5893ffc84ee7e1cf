"""The worker side of jobs: job kinds, the context a handler gets, and the arq entry point.

Every service's worker runs one arq function, ``run_job(job_id)``. It claims the job in the
database (so a job enqueued twice, or re-run after a crash, runs once at a time), keeps a heartbeat
while the handler runs, and records the outcome. Handlers must be idempotent: a job taken over
after a crash starts again from what is already persisted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from tutorlab.jobs.models import Job, JobStatus
from tutorlab.jobs.queue import JobQueue
from tutorlab.jobs.store import JobStore
from tutorlab.logging import job_id_var

log = logging.getLogger("tutorlab.jobs")


class JobCancelled(Exception):
    """Raised inside a handler when the job's cancel flag is set."""


class JobFailed(Exception):
    """Raised by a handler to fail its job on purpose, with what it produced anyway.

    A failure the handler can name (a benchmark past its error threshold, an input that was
    never imported) is an outcome, not a crash: the runtime records ``message`` as the job's
    error and ``result`` as its result, once, and logs one line without a traceback. The
    job is not run again.
    """

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.result = result


class JobLost(Exception):
    """Raised when another worker took the job over (this worker's lease expired)."""


@dataclass
class JobContext:
    job: Job
    params: Any
    store: JobStore
    worker_id: str
    resources: Mapping[str, Any]
    #: (done, total) to record with a successful finish, for a handler that reports no
    #: progress on the way (saves it a write)
    final_progress: tuple[int, int] | None = None
    _last_cancel_check: float = 0.0

    @property
    def job_id(self) -> str:
        return self.job.id

    async def progress(
        self, done: int, total: int | None = None, partial: dict[str, Any] | None = None
    ) -> None:
        """Record progress (and a partial result, e.g. metrics so far); stop here if the job was
        cancelled (checked at most twice a second)."""
        await self.store.set_progress(self.job.id, done, total, partial)
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_cancel_check >= 0.5:
            self._last_cancel_check = loop.time()
            await self.check_cancelled()

    async def check_cancelled(self) -> None:
        if await self.store.is_cancel_requested(self.job.id):
            raise JobCancelled(self.job.id)


JobHandler = Callable[[JobContext], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class JobKind:
    """A kind of job a service runs: its name, parameter schema and handler."""

    name: str
    params_model: type[BaseModel]
    handler: JobHandler
    description: str = ""


@dataclass
class WorkerRuntime:
    store: JobStore
    queue: JobQueue
    kinds: Mapping[str, JobKind]
    heartbeat_s: float
    stale_after_s: float
    resources: dict[str, Any] = field(default_factory=dict)
    #: how long arq marks a job its worker picked up (arq's ``in_progress_timeout_s``): from
    #: it, reconcile tells a pick-up that died before its claim; None leaves such marks alone
    in_progress_ttl_s: float | None = None
    worker_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    )


async def _heartbeat(runtime: WorkerRuntime, job_id: str, task: asyncio.Task[Any]) -> None:
    while True:
        await asyncio.sleep(runtime.heartbeat_s)
        try:
            mine = await runtime.store.heartbeat(job_id, runtime.worker_id)
        except Exception as exc:
            # the database did not answer this once: the lease lasts several heartbeats, so
            # try again at the next one instead of leaving the job running without a lease
            log.warning("heartbeat for job %s failed: %s: %s", job_id, type(exc).__name__, exc)
            continue
        if not mine:
            log.warning("lost the lease on job %s; stopping it here", job_id)
            task.cancel(msg="lease lost")
            return


#: what :func:`execute` returns when the job reached a final status
FINAL_OUTCOMES = frozenset({"succeeded", "failed", "cancelled"})


async def execute(runtime: WorkerRuntime, job_id: str) -> str:
    """Claim and run one job; returns what happened (for arq's result and the logs). A job
    that reached a final status is announced on the queue, for clients waiting on it."""
    outcome = await _run_claimed(runtime, job_id)
    if outcome in FINAL_OUTCOMES:
        try:
            await runtime.queue.notify_finished(job_id)
        except Exception as exc:  # a hint only: waiters also re-read the database
            log.warning("could not announce that job %s finished: %s", job_id, exc)
    return outcome


async def _run_claimed(runtime: WorkerRuntime, job_id: str) -> str:
    token = job_id_var.set(job_id)
    try:
        job = await runtime.store.claim(job_id, runtime.worker_id, runtime.stale_after_s)
        if job is None:
            log.info("job %s not claimable (done, cancelled or owned elsewhere)", job_id)
            return "skipped"
        kind = runtime.kinds.get(job.kind)
        if kind is None:
            await runtime.store.finish(
                job_id, runtime.worker_id, JobStatus.failed, error=f"unknown job kind {job.kind!r}"
            )
            return "failed"
        ctx = JobContext(
            job=job,
            params=kind.params_model.model_validate(job.params),
            store=runtime.store,
            worker_id=runtime.worker_id,
            resources=runtime.resources,
        )
        log.info("job %s (%s) started, attempt %d", job_id, job.kind, job.attempts)
        return await _run_handler(runtime, kind, ctx)
    finally:
        job_id_var.reset(token)


async def _run_handler(runtime: WorkerRuntime, kind: JobKind, ctx: JobContext) -> str:
    """Run the handler with a heartbeat and record its outcome: succeeded (its result),
    cancelled, failed on purpose (JobFailed: its message and result, one log line) or crashed
    (the exception, with its traceback in the log). A lost lease records nothing."""
    job_id, worker_id, store = ctx.job_id, runtime.worker_id, runtime.store
    work = asyncio.ensure_future(kind.handler(ctx))
    beat = asyncio.create_task(_heartbeat(runtime, job_id, work))
    try:
        result = await work
    except JobCancelled:
        await store.finish(job_id, worker_id, JobStatus.cancelled)
        log.info("job %s cancelled", job_id)
        return "cancelled"
    except JobFailed as failed:
        await store.finish(
            job_id, worker_id, JobStatus.failed, result=failed.result, error=failed.message
        )
        log.warning("job %s failed: %s", job_id, failed.message)
        return "failed"
    except asyncio.CancelledError:
        if beat.done():  # the lease was lost: another worker owns the job now
            return "lost"
        raise
    except Exception as exc:
        log.exception("job %s failed", job_id)
        await store.finish(
            job_id, worker_id, JobStatus.failed, error=f"{type(exc).__name__}: {exc}"
        )
        return "failed"
    finally:
        beat.cancel()
    await store.finish(
        job_id, worker_id, JobStatus.succeeded, result=result or {}, progress=ctx.final_progress
    )
    log.info("job %s succeeded", job_id)
    return "succeeded"


#: a queued job this old is enqueued by reconcile in case it never reached Redis (Redis was
#: down when it was submitted, or restarted without its data); enqueueing one that is already
#: there changes nothing (the arq job id is the job id), so this only spares the API's own
#: enqueue a race
QUEUED_GRACE_S = 2.0


async def reconcile(runtime: WorkerRuntime, queued_after_s: float = QUEUED_GRACE_S) -> int:
    """Re-enqueue jobs whose worker died (stale heartbeat) or that never reached the queue.

    A job arq already holds under its id may be one a worker picked up and died with before it
    claimed it (a few milliseconds, but a SIGKILL can land there): arq's in-progress mark then
    keeps every worker off it for a day. Once the pick-up is ``stale_after_s`` old (a live
    worker claims within milliseconds), the mark goes and a worker picks the job up again, so
    such a job, too, runs again within ``job_takeover_within_s``. The database claim keeps it
    to one run, whatever arq does twice."""
    count = 0
    for job in await runtime.store.needing_dispatch(runtime.stale_after_s, queued_after_s):
        if job.status == JobStatus.running.value:
            arq_id = f"{job.id}:takeover:{job.attempts}"
        else:
            arq_id = job.id
        if await runtime.queue.enqueue(job.id, arq_job_id=arq_id):
            count += 1
            log.info("re-enqueued job %s (%s) as %s", job.id, job.status, arq_id)
        elif runtime.in_progress_ttl_s is not None and await runtime.queue.release_stale_pickup(
            arq_id,
            picked_up_before_s=runtime.stale_after_s,
            in_progress_ttl_s=runtime.in_progress_ttl_s,
        ):
            count += 1
            log.warning(
                "job %s (%s): arq job %s was picked up over %.0f s ago and never claimed (its "
                "worker died); released for another worker",
                job.id,
                job.status,
                arq_id,
                runtime.stale_after_s,
            )
    return count
