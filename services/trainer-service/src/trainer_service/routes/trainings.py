"""/trainings: submit a config (YAML or JSON), list, watch, read every step's metrics, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from tutorlab.jobs.models import JobPublic, JobStatus
from tutorlab.service.deps import ApiKey, State
from tutorlab.service.jobs_api import (
    IdempotencyKeyHeader,
    OffsetQuery,
    WaitQuery,
    read_job,
    submit_job,
)
from tutorlab.service.responses import errors, submitted

from trainer_service.data_refs import DataRefError, check_data_refs
from trainer_service.deps import RunStoreDep, Settings
from trainer_service.jobs import TRAINING
from trainer_service.run_store import checkpoint_public, metrics_public
from trainer_service.schemas import CheckpointPublic, TrainingPublic
from trainer_service.training_config import ConfigError, TrainingConfig, parse_config

router = APIRouter(prefix="/trainings", tags=["trainings"])

#: the largest config accepted (a config is a page of YAML, not a dataset)
MAX_CONFIG_BYTES = 256 * 1024
_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")


def _links(training_id: str) -> dict[str, str]:
    return {
        "self": f"/trainings/{training_id}",
        "metrics": f"/trainings/{training_id}/metrics",
        "job": f"/jobs/{training_id}",
        "experiment": f"/experiments/{training_id}",
    }


def _config_error(exc: ConfigError) -> HTTPException:
    """422 naming each field; a problem with the whole text (syntax, not a mapping) names the
    ``body``, as every service does for a body it cannot read."""
    detail = [
        {**d, "field": "body" if d["field"] == "config" else d["field"]} for d in exc.detail()
    ]
    return HTTPException(422, {"error": str(exc), "detail": detail})


async def _read_config(request: Request) -> TrainingConfig:
    body = await request.body()
    if len(body) > MAX_CONFIG_BYTES:
        raise HTTPException(413, f"config: larger than {MAX_CONFIG_BYTES} bytes")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        fmt = "json"
    elif content_type in _YAML_TYPES or not content_type:
        fmt = "yaml"
    else:
        raise HTTPException(
            415,
            f"content-type: send the config as application/json or application/yaml, "
            f"not {content_type!r}",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start}), so neither JSON nor YAML"
        raise HTTPException(
            422,
            {
                "error": f"body: {message}",
                "detail": [{"field": "body", "msg": message, "line": None, "type": "config"}],
            },
        ) from exc
    try:
        return parse_config(text, fmt=fmt)  # type: ignore[arg-type]
    except ConfigError as exc:
        raise _config_error(exc) from exc


@router.post(
    "",
    status_code=202,
    dependencies=[ApiKey],
    responses=submitted(413, 415, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {"schema": {"type": "string"}},
                "application/json": {"schema": TrainingConfig.model_json_schema()},
            },
        }
    },
)
async def submit_training(
    request: Request,
    state: State,
    settings: Settings,
    idempotency_key: str | None = IdempotencyKeyHeader,
) -> JSONResponse:
    """Queue a training run from a config (the body, YAML or JSON); poll the ``Location``."""
    config = await _read_config(request)
    try:
        await check_data_refs(config, settings, state.http)
    except DataRefError as exc:
        raise HTTPException(exc.status_code, f"{exc.field}: {exc}") from exc
    params = {"config": config.model_dump(mode="json")}
    return await submit_job(
        state, TRAINING, params, idempotency_key=idempotency_key, location="/trainings/{id}"
    )


async def training_public(
    state: State, store: RunStoreDep, job_id: str, wait_s: float = 0.0
) -> TrainingPublic:
    job = await read_job(state, job_id, wait_s)
    if job is None or job.kind != TRAINING:
        raise HTTPException(404, f"training {job_id!r} not found")
    config: dict[str, Any] = job.params.get("config", {})
    result: dict[str, Any] = job.result or {}
    latest = await store.latest_metrics(job.id)
    checkpoints = await store.checkpoints(job.id)
    return TrainingPublic(
        id=job.id,
        name=str(result.get("name") or config.get("name") or job.id),
        method=str(config.get("method", "sft")),
        backend=str(config.get("backend", "tinker")),
        base_model=str(result.get("base_model") or config.get("model", {}).get("base_model", "")),
        job=JobPublic.from_job(job, links={"self": f"/jobs/{job.id}"}),
        step=job.progress_done,
        total_steps=job.progress_total,
        phase=result.get("phase"),
        latest_metrics=latest.metrics if latest else {},
        cost_usd=float(result.get("cost_usd", 0.0)),
        max_cost_usd=config.get("max_cost_usd"),
        stopped_reason=result.get("stopped_reason"),
        checkpoints=[CheckpointPublic(**checkpoint_public(c)) for c in checkpoints],
        sampler_path=result.get("sampler_path"),
        registered_model=result.get("registered_model"),
        benchmark_id=result.get("benchmark_id"),
        experiment=result.get("experiment"),
        links=_links(job.id),
    )


@router.get("")
async def list_trainings(
    state: State,
    store: RunStoreDep,
    status: JobStatus | None = Query(default=None),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = OffsetQuery,
) -> list[TrainingPublic]:
    """Training runs, newest first."""
    jobs = await state.jobs.find(
        kind=TRAINING, status=status.value if status else None, limit=limit, offset=offset
    )
    return [await training_public(state, store, job.id) for job in jobs]


@router.get("/{training_id}", responses=errors(404))
async def get_training(
    training_id: str, state: State, store: RunStoreDep, wait_s: float = WaitQuery
) -> TrainingPublic:
    """Status, step/total, latest metrics, cost so far, checkpoints (``wait_s``: long poll)."""
    return await training_public(state, store, training_id, wait_s)


@router.get("/{training_id}/metrics", responses=errors(404))
async def get_metrics(
    training_id: str,
    state: State,
    store: RunStoreDep,
    after_step: int = Query(default=-1, ge=-1, le=10_000_000),
    limit: int = Query(default=10_000, ge=1, le=100_000),
) -> list[dict[str, Any]]:
    """Every step's metrics (``after_step`` pages on)."""
    job = await state.jobs.get(training_id)
    if job is None or job.kind != TRAINING:
        raise HTTPException(404, f"training {training_id!r} not found")
    return metrics_public(await store.metrics(training_id, after_step=after_step, limit=limit))


@router.delete("/{training_id}", dependencies=[ApiKey], responses=errors(404))
async def cancel_training(training_id: str, state: State, store: RunStoreDep) -> TrainingPublic:
    """Cancel: a queued run stops at once; a running one after the step in flight, saving a
    checkpoint first."""
    job = await state.jobs.get(training_id)
    if job is None or job.kind != TRAINING:
        raise HTTPException(404, f"training {training_id!r} not found")
    job = await state.jobs.request_cancel(training_id)
    if job is not None and job.status == JobStatus.cancelled.value:
        await state.queue.notify_finished(training_id)
    return await training_public(state, store, training_id)
