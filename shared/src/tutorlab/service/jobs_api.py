"""The jobs API every service shares: submit (202 + Location), list, show, cancel."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tutorlab.jobs.models import TERMINAL_STATUSES, Job, JobPublic, JobStatus
from tutorlab.jobs.runtime import JobKind
from tutorlab.jobs.store import IdempotencyConflict
from tutorlab.service.deps import ApiKey, ServiceState, State
from tutorlab.service.errors import validation_detail
from tutorlab.service.responses import errors, submitted

log = logging.getLogger("tutorlab.jobs")

#: the longest a client may wait on one request for a job to finish
MAX_WAIT_S = 60.0
#: a waiting request re-reads the job this often, whether or not it heard it finish
RECHECK_S = 1.0

WaitQuery = Query(
    default=0.0,
    ge=0,
    le=MAX_WAIT_S,
    description="long poll: answer once the job has finished, or after this many seconds",
)
#: the deepest a list route pages (a database refuses offsets past 64 bits with a 500)
MAX_OFFSET = 1_000_000
OffsetQuery = Query(default=0, ge=0, le=MAX_OFFSET, description="rows to skip")
#: every route that submits a job takes this header: the same key and body answer the same job
IdempotencyKeyHeader = Header(
    default=None,
    alias="Idempotency-Key",
    min_length=1,
    max_length=200,
    description="repeat a submission safely: the same key and body answer the first job (200); "
    "the same key with another body is a 409",
)


class JobSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    params: dict[str, Any] = Field(default_factory=dict)


async def submit_job(
    state: ServiceState,
    kind: str,
    params: dict[str, Any],
    *,
    idempotency_key: str | None,
    location: str,
) -> JSONResponse:
    """Write the job row, enqueue it, answer 202 with a Location to poll.

    With an Idempotency-Key seen before, answer the same job (200) and enqueue nothing new.
    """
    try:
        job, created = await state.jobs.create(kind, params, idempotency_key)
    except IdempotencyConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    url = location.format(id=job.id)
    if created:
        try:
            await state.queue.enqueue(job.id)
        except (
            Exception
        ) as exc:  # Redis down: the row stays queued; a worker's reconcile picks it up
            log.warning("job %s saved but not enqueued yet: %s", job.id, exc)
    body = JobPublic.from_job(job, links={"self": url}).model_dump(mode="json")
    return JSONResponse(
        status_code=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        content=body,
        headers={"Location": url},
    )


async def read_job(state: ServiceState, job_id: str, wait_s: float = 0.0) -> Job | None:
    """The job as stored; with ``wait_s``, once it has reached a final status or ``wait_s``
    has passed, whichever is first (a long poll instead of a client polling in a loop)."""
    if wait_s <= 0:
        return await state.jobs.get(job_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    async with state.queue.finished(job_id) as finished:
        while True:
            job = await state.jobs.get(job_id)
            left = deadline - loop.time()
            if job is None or JobStatus(job.status) in TERMINAL_STATUSES or left <= 0:
                return job
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), min(left, RECHECK_S))


def jobs_router(kinds: Mapping[str, JobKind], routes: Mapping[str, str] | None = None) -> APIRouter:
    """The jobs API. A kind in ``routes`` (kind -> its route, ``"POST /benchmarks"``) is submitted
    through that route only, which checks more than its params' shape."""
    routed = dict(routes or {})
    router = APIRouter(prefix="/jobs", tags=["jobs"])

    @router.post("", status_code=202, dependencies=[ApiKey], responses=submitted())
    async def create_job(
        body: JobSubmit,
        state: State,
        idempotency_key: str | None = IdempotencyKeyHeader,
    ) -> JSONResponse:
        """Submit a job of a kind that has no route of its own (see GET /jobs/kinds)."""
        kind = kinds.get(body.kind)
        if kind is None:
            raise HTTPException(
                422, f"kind: unknown job kind {body.kind!r}; known: {sorted(kinds)}"
            )
        if kind.name in routed:
            raise HTTPException(
                422, f"kind: submit {kind.name!r} jobs with {routed[kind.name]}, not POST /jobs"
            )
        try:
            params = kind.params_model.model_validate(body.params)
        except ValidationError as exc:
            detail = validation_detail([{**e, "loc": ("params", *e["loc"])} for e in exc.errors()])
            summary = "; ".join(f"{d['field']}: {d['msg']}" for d in detail)
            raise HTTPException(422, {"error": summary, "detail": detail}) from exc
        return await submit_job(
            state,
            kind.name,
            params.model_dump(mode="json"),
            idempotency_key=idempotency_key,
            location="/jobs/{id}",
        )

    @router.get("/kinds")
    async def list_kinds() -> list[dict[str, Any]]:
        return [
            {
                "kind": k.name,
                "description": k.description,
                "submit": routed.get(k.name, "POST /jobs"),
                "params": k.params_model.model_json_schema(),
            }
            for k in kinds.values()
        ]

    @router.get("")
    async def list_jobs(
        state: State,
        kind: str | None = None,
        status_: JobStatus | None = Query(default=None, alias="status"),
        limit: int = Query(default=50, ge=1, le=500),
        offset: int = OffsetQuery,
    ) -> list[JobPublic]:
        jobs = await state.jobs.find(
            kind=kind, status=status_.value if status_ else None, limit=limit, offset=offset
        )
        return [JobPublic.from_job(j) for j in jobs]

    @router.get("/{job_id}", responses=errors(404))
    async def get_job(job_id: str, state: State, wait_s: float = WaitQuery) -> JobPublic:
        job = await read_job(state, job_id, wait_s)
        if job is None:
            raise HTTPException(404, f"job {job_id!r} not found")
        return JobPublic.from_job(job)

    @router.delete("/{job_id}", dependencies=[ApiKey], responses=errors(404))
    async def cancel_job(job_id: str, state: State) -> JobPublic:
        """Cancel: a queued job stops at once, a running one at its next checkpoint."""
        job = await state.jobs.request_cancel(job_id)
        if job is None:
            raise HTTPException(404, f"job {job_id!r} not found")
        if job.status == JobStatus.cancelled.value:
            with contextlib.suppress(Exception):  # a hint for waiters, who also re-read
                await state.queue.notify_finished(job_id)
        return JobPublic.from_job(job)

    return router


def request_idempotency_key(request: Request) -> str | None:
    return request.headers.get("idempotency-key")
