"""/training-sets: validate a JSONL, start builders (jobs), list, show and download built sets."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUploadFile
from tutorlab.curriculum.validation import ValidationReport, validate_jsonl
from tutorlab.service.deps import ApiKey, State
from tutorlab.service.errors import validation_detail
from tutorlab.service.jobs_api import submit_job

from data_service.build_jobs import SocraticBuildParams, TeacherBuildParams
from data_service.config import DataServiceSettings
from data_service.schemas import TrainingSetPublic, TrainingSetSummary, ValidatePathRequest
from data_service.training_sets import TrainingSetStore

router = APIRouter(prefix="/training-sets", tags=["training-sets"])


def _sets(state: State) -> TrainingSetStore:
    store: TrainingSetStore = state.extras["training_sets"]
    return store


def resolve_data_path(data_dir: Path, raw: str) -> Path:
    """``raw`` (relative to the data directory, or absolute) if it lies inside it; else 422/404."""
    root = data_dir.resolve()
    candidate = Path(raw)
    path = (candidate if candidate.is_absolute() else root / candidate).resolve()
    if not path.is_relative_to(root):
        raise HTTPException(422, f"path: {raw!r} is outside the data directory {root}")
    if not path.is_file():
        raise HTTPException(404, f"path: file {raw!r} not found under the data directory {root}")
    return path


async def multipart_file(request: Request) -> tuple[str | None, bytes]:
    """The uploaded file of a multipart/form-data body (field ``file``, else the first file)."""
    form = await request.form()
    uploads = [value for value in form.values() if isinstance(value, StarletteUploadFile)]
    chosen = form.get("file")
    upload = chosen if isinstance(chosen, StarletteUploadFile) else next(iter(uploads), None)
    if upload is None:
        raise HTTPException(422, "file: no file part in the multipart body (send it as 'file')")
    return upload.filename, await upload.read()


def _validate_bytes(data: bytes, max_tokens: int) -> ValidationReport:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.jsonl"
        path.write_bytes(data)
        return validate_jsonl(path, max_tokens=max_tokens)


@router.post("/validate", dependencies=[ApiKey])
async def validate(
    request: Request,
    state: State,
    max_tokens: int = Query(default=4096, ge=16, le=1_000_000, description="token limit"),
) -> dict[str, Any]:
    """Validate a training JSONL: ``{"path": …}`` (a file under the data directory), a multipart
    upload (field ``file``), or the JSONL itself as the body. Every problem has its line number."""
    settings: DataServiceSettings = state.settings  # type: ignore[assignment]
    content_type = request.headers.get("content-type", "")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_upload_bytes:
        raise HTTPException(413, f"body: over the {settings.max_upload_bytes}-byte limit")
    body = await request.body()
    if len(body) > settings.max_upload_bytes:
        raise HTTPException(413, f"body: over the {settings.max_upload_bytes}-byte limit")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        try:
            data = json.loads(body or b"null")
            spec = ValidatePathRequest.model_validate(data)
        except json.JSONDecodeError as exc:
            raise HTTPException(422, f'body: invalid JSON ({exc.msg}); send {{"path": …}}') from exc
        except ValidationError as exc:
            detail = validation_detail([dict(e) for e in exc.errors()])
            summary = "; ".join(f"{d['field']}: {d['msg']}" for d in detail)
            raise HTTPException(422, {"error": summary, "detail": detail}) from exc
        path = resolve_data_path(settings.data_dir, spec.path)
        report = await asyncio.to_thread(validate_jsonl, path, max_tokens=max_tokens)
        return {"source": "path", "name": spec.path, **report.model_dump()}
    if media == "multipart/form-data":
        filename, data_bytes = await multipart_file(request)
        source, name = "upload", filename
    else:
        data_bytes, source, name = body, "body", None
    if not data_bytes:
        raise HTTPException(422, 'body: empty; send a JSONL file, a multipart upload or {"path"}')
    report = await asyncio.to_thread(_validate_bytes, data_bytes, max_tokens)
    return {"source": source, "name": name, **report.model_dump()}


@router.post("/build/socratic", status_code=202, dependencies=[ApiKey])
async def build_socratic(
    body: SocraticBuildParams,
    state: State,
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> JSONResponse:
    """Build hint / explain / check examples from GSM8K train (a job)."""
    return await submit_job(
        state,
        "build_socratic",
        body.model_dump(mode="json"),
        idempotency_key=idempotency_key,
        location="/jobs/{id}",
    )


@router.post("/build/teacher", status_code=202, dependencies=[ApiKey])
async def build_teacher(
    body: TeacherBuildParams,
    state: State,
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> JSONResponse:
    """Build distillation data from a registered teacher model (a job)."""
    return await submit_job(
        state,
        "build_teacher",
        body.model_dump(mode="json"),
        idempotency_key=idempotency_key,
        location="/jobs/{id}",
    )


@router.get("")
async def list_sets(
    state: State,
    builder: Literal["socratic", "teacher"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> list[TrainingSetSummary]:
    """Built sets, newest first."""
    rows = await _sets(state).list(builder, limit, offset)
    return [TrainingSetSummary.of(r) for r in rows]


@router.get("/{set_id}")
async def show_set(set_id: str, state: State) -> TrainingSetPublic:
    """A set with its card (source, builder, params, counts, checksum, contamination report)."""
    row = await _sets(state).get(set_id)
    if row is None:
        raise HTTPException(404, f"training set {set_id!r} not found")
    return TrainingSetPublic.of(row)


@router.get("/{set_id}/download")
async def download_set(
    set_id: str,
    state: State,
    part: Literal["train", "eval"] = "train",
    format: Literal["prompt", "messages"] = Query(
        default="prompt", description="prompt: {prompt, response, …}; messages: {messages, …}"
    ),
) -> FileResponse:
    """One part of a set as JSONL."""
    sets = _sets(state)
    row = await sets.get(set_id)
    if row is None:
        raise HTTPException(404, f"training set {set_id!r} not found")
    path = sets.file(row, part, format)
    if not path.is_file():
        raise HTTPException(404, f"file {path.name} of training set {set_id} is missing on disk")
    suffix = "" if format == "prompt" else ".messages"
    return FileResponse(
        path, media_type="application/x-ndjson", filename=f"{set_id}-{part}{suffix}.jsonl"
    )
