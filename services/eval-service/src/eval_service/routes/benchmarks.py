"""/benchmarks: submit, list, watch, page items, read results; /suites."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from tutorlab.jobs.models import JobPublic, JobStatus
from tutorlab.registry_client import RegistryError
from tutorlab.service.deps import ApiKey, State
from tutorlab.service.jobs_api import (
    IdempotencyKeyHeader,
    OffsetQuery,
    WaitQuery,
    read_job,
    submit_job,
)
from tutorlab.service.responses import errors, submitted

from eval_service.catalog import load_catalog
from eval_service.deps import ItemsDep, RegistryDep, TasksDep
from eval_service.jobs import BENCHMARK
from eval_service.plan import PlanError, effective_params, task_names
from eval_service.result_files import ResultFileError, confine, job_results
from eval_service.results import item_record
from eval_service.schemas import BenchmarkParams, check_sampling
from eval_service.targets import TUTOR_API_TARGET

router = APIRouter(tags=["benchmarks"])


def _links(run_id: str) -> dict[str, str]:
    return {
        "self": f"/benchmarks/{run_id}",
        "items": f"/benchmarks/{run_id}/items",
        "results": f"/benchmarks/{run_id}/results",
    }


@router.post(
    "/benchmarks",
    status_code=202,
    dependencies=[ApiKey],
    responses=submitted(404, 503),
)
async def submit_benchmark(
    body: BenchmarkParams,
    state: State,
    registry: RegistryDep,
    tasks: TasksDep,
    idempotency_key: str | None = IdempotencyKeyHeader,
) -> JSONResponse:
    """Queue a benchmark; poll the ``Location`` for progress, metrics so far and results."""
    if body.custom_tasks is not None:
        raise HTTPException(422, "custom_tasks: set by eval-service, not accepted in a request")
    custom = [n for n in body.tasks or [] if n not in load_catalog().tasks]
    if custom:  # the registered definitions, as they are now, go with the run
        body.custom_tasks = await tasks.get_many(custom)
    try:
        task_names(body)
    except PlanError as exc:
        raise HTTPException(422, str(exc)) from exc
    if body.registered is not None:
        raise HTTPException(422, "registered: set by eval-service, not accepted in a request")
    registered = None
    try:
        if body.model:
            registered = await registry.get_model(body.model)
        elif body.target == TUTOR_API_TARGET and await registry.active_model() is None:
            raise HTTPException(409, "model: tutor-api has no active model; pass model")
    except RegistryError as exc:
        if exc.status_code in (404, 422):  # not registered; names a key variable not allowed
            raise HTTPException(exc.status_code, f"model: {exc}") from exc
        raise HTTPException(503, f"cannot check the model with tutor-api: {exc}") from exc
    if registered is not None and body.epochs > 1:
        try:
            check_sampling(body.epochs, effective_params(registered, body.params))
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
    if body.judge:
        try:
            await registry.get_model(body.judge)
        except RegistryError as exc:
            status_code = exc.status_code if exc.status_code in (404, 422) else 503
            raise HTTPException(status_code, f"judge: {exc}") from exc
    if body.compare_to:
        await _check_baseline(state, body.compare_to)
    params = body.model_dump(mode="json", exclude_unset=True)
    if body.custom_tasks:
        params["custom_tasks"] = {
            name: d.model_dump(mode="json") for name, d in body.custom_tasks.items()
        }
    if registered is not None:  # the worker runs the model as registered now
        params["registered"] = registered.model_dump(mode="json")
    return await submit_job(
        state,
        BENCHMARK,
        params,
        idempotency_key=idempotency_key,
        location="/benchmarks/{id}",
    )


async def _check_baseline(state: State, ref: str) -> None:
    job = None if "\x00" in ref else await state.jobs.get(ref)  # PostgreSQL refuses a NUL
    if job is not None:
        if job.kind != BENCHMARK:
            raise HTTPException(422, f"compare_to: {ref} is a {job.kind} job, not a benchmark")
        return
    try:
        await asyncio.to_thread(confine, ref, "compare_to", Path(state.settings.outputs_dir))
    except ResultFileError as exc:
        raise HTTPException(422, str(exc)) from exc


def _eta(job: JobPublic) -> float | None:
    total, done = job.progress.total, job.progress.done
    if job.status != JobStatus.running or not total or not job.started_at or done <= 0:
        return None
    elapsed = (datetime.now(UTC) - job.started_at).total_seconds()
    return round(elapsed / done * (total - done), 1) if elapsed > 0 else None


async def _run(state: State, run_id: str, wait_s: float = 0.0) -> JobPublic:
    job = await read_job(state, run_id, wait_s)
    if job is None or job.kind != BENCHMARK:
        raise HTTPException(404, f"benchmark run {run_id!r} not found")
    return JobPublic.from_job(job, links=_links(run_id))


@router.get("/benchmarks")
async def list_benchmarks(
    state: State,
    status: JobStatus | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = OffsetQuery,
) -> list[dict[str, Any]]:
    jobs = await state.jobs.find(
        kind=BENCHMARK, status=status.value if status else None, limit=limit, offset=offset
    )
    return [
        {
            **JobPublic.from_job(j, links=_links(j.id)).model_dump(mode="json"),
            "headline": (j.result or {}).get("headline"),
        }
        for j in jobs
    ]


@router.get("/benchmarks/{run_id}", responses=errors(404))
async def get_benchmark(run_id: str, state: State, wait_s: float = WaitQuery) -> dict[str, Any]:
    """Status, progress, ETA, and metrics over the items scored so far (kept up to date by the
    worker with each batch, so polling never re-reads the items). ``wait_s`` makes it a long
    poll: the answer comes when the run has finished, or after that many seconds."""
    job = await _run(state, run_id, wait_s)
    result = job.result or {}
    return {
        **job.model_dump(mode="json"),
        "eta_s": _eta(job),
        "errors": result.get("errors", (result.get("counts") or {}).get("errors", 0)),
        "metrics": result.get("metrics", {}),
    }


@router.get("/benchmarks/{run_id}/items", responses=errors(404))
async def benchmark_items(
    run_id: str,
    state: State,
    store: ItemsDep,
    task: str | None = None,
    verdict: str | None = None,
    status: str | None = Query(default=None, pattern="^(ok|error)$"),
    error: bool | None = Query(default=None, description="only failed (true) or scored (false)"),
    offset: int = OffsetQuery,
    limit: int = Query(default=50, ge=1, le=1000),
) -> dict[str, Any]:
    await _run(state, run_id)
    if error is not None:
        status = "error" if error else "ok"
    total, rows = await store.page(
        run_id, task=task, verdict=verdict, status=status, offset=offset, limit=limit
    )
    return {
        "total": total,
        "offset": offset,
        "limit": limit,
        "items": [item_record(r) for r in rows],
    }


@router.get("/benchmarks/{run_id}/results", responses=errors(404))
async def benchmark_results(run_id: str, state: State) -> Any:
    """The run's own ``benchmark_results.json`` (never another run's with the same label)."""
    job = await _run(state, run_id)
    found = await asyncio.to_thread(job_results, run_id, job.result)
    if found is None:
        raise HTTPException(404, f"run {run_id} has no results file (status {job.status.value})")
    return found[0]


@router.get("/suites")
async def list_suites() -> dict[str, Any]:
    catalog = load_catalog()
    return {name: suite.model_dump() for name, suite in catalog.suites.items()}
