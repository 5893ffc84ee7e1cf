"""/training-sets: validate a JSONL, turn a user's JSONL into a set, start builders (jobs),
list, show and download sets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUploadFile
from tutorlab.curriculum.validation import validate_jsonl
from tutorlab.service.deps import ApiKey, State
from tutorlab.service.errors import validation_detail
from tutorlab.service.jobs_api import IdempotencyKeyHeader, OffsetQuery, submit_job
from tutorlab.service.responses import errors, submitted

from data_service.build_jobs import SocraticBuildParams, TeacherBuildParams
from data_service.config import DataServiceSettings
from data_service.deps import DatasetsDep, Settings, TrainingSetsDep
from data_service.schemas import (
    TrainingSetCreated,
    TrainingSetPublic,
    TrainingSetSummary,
    ValidatePathRequest,
)
from data_service.uploaded_sets import (
    MAX_PROBLEMS_SHOWN,
    PathUpload,
    ReferencesMissing,
    UploadOptions,
    UploadRejected,
    UploadSource,
    create_uploaded_set,
)

router = APIRouter(prefix="/training-sets", tags=["training-sets"])


def resolve_inside(raw: str, roots: dict[str, Path]) -> Path:
    """``raw`` (relative to the first root, or absolute), symlinks followed, if it lies inside
    one of ``roots`` (label -> directory). Outside: a 422 naming ``path`` that is the same whether
    or not the file exists; inside but not a file: 404."""
    resolved = {label: root.resolve() for label, root in roots.items()}
    where = " or ".join(f"the {label} {root}" for label, root in resolved.items())
    candidate = Path(raw)
    try:
        base = next(iter(resolved.values()))
        path = (candidate if candidate.is_absolute() else base / candidate).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte
        raise HTTPException(422, f"path: {raw!r} is outside {where}") from exc
    if not any(path.is_relative_to(root) for root in resolved.values()):
        raise HTTPException(422, f"path: {raw!r} is outside {where}")
    try:
        is_file = path.is_file()
    except OSError as exc:  # a name the file system cannot hold (a part over 255 bytes)
        raise HTTPException(422, f"path: {raw!r} cannot name a file ({exc.strerror})") from exc
    if not is_file:
        raise HTTPException(404, f"path: file {raw!r} not found under {where}")
    return path


def resolve_data_path(data_dir: Path, raw: str) -> Path:
    """``raw`` (relative to the data directory, or absolute) if it lies inside it; else 422/404."""
    return resolve_inside(raw, {"data directory": data_dir})


async def multipart_upload(request: Request) -> tuple[str | None, bytes, dict[str, str]]:
    """The uploaded file of a multipart/form-data body (field ``file``, else the first file),
    and the body's plain (non-file) fields."""
    form = await request.form()
    uploads = [value for value in form.values() if isinstance(value, StarletteUploadFile)]
    chosen = form.get("file")
    upload = chosen if isinstance(chosen, StarletteUploadFile) else next(iter(uploads), None)
    if upload is None:
        raise HTTPException(422, "file: no file part in the multipart body (send it as 'file')")
    fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    return upload.filename, await upload.read(), fields


def _body_limit(request: Request, limit: int) -> None:
    """413 before reading a body that declares more than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body: over the {limit}-byte limit")


def _invalid(exc: ValidationError, prefix: tuple[str, ...] = ()) -> HTTPException:
    detail = validation_detail([{**e, "loc": (*prefix, *e["loc"])} for e in exc.errors()])
    summary = "; ".join(f"{d['field']}: {d['msg']}" for d in detail)
    return HTTPException(422, {"error": summary, "detail": detail})


#: a JSONL file as a multipart part named ``file``
_FILE_PART = {"file": {"type": "string", "format": "binary", "description": "the JSONL"}}


@router.post(
    "/validate",
    dependencies=[ApiKey],
    responses=errors(404, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": ValidatePathRequest.model_json_schema()},
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": _FILE_PART, "required": ["file"]}
                },
                "application/x-ndjson": {"schema": {"type": "string", "description": "JSONL"}},
            },
        }
    },
)
async def validate(
    request: Request,
    settings: Settings,
    max_tokens: int = Query(default=4096, ge=16, le=1_000_000, description="token limit"),
) -> dict[str, Any]:
    """Validate a training JSONL: ``{"path": …}`` (a file under the data directory), a multipart
    upload (field ``file``), or the JSONL itself as the body. Every problem has its line number."""
    content_type = request.headers.get("content-type", "")
    _body_limit(request, settings.max_upload_bytes)
    body = await request.body()
    if len(body) > settings.max_upload_bytes:
        raise HTTPException(413, f"body: over the {settings.max_upload_bytes}-byte limit")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        try:  # pydantic's parser: no recursion or int-size error gets out of it
            spec = ValidatePathRequest.model_validate_json(body or b"null")
        except ValidationError as exc:
            raise _invalid(exc) from exc
        path = resolve_data_path(settings.data_dir, spec.path)
        report = await asyncio.to_thread(validate_jsonl, path, max_tokens=max_tokens)
        return {"source": "path", "name": spec.path, **report.model_dump()}
    if media == "multipart/form-data":
        filename, data_bytes, _ = await multipart_upload(request)
        source, name = "upload", filename
    else:
        data_bytes, source, name = body, "body", None
    if not data_bytes:
        raise HTTPException(422, 'body: empty; send a JSONL file, a multipart upload or {"path"}')
    report = await asyncio.to_thread(validate_jsonl, data_bytes, max_tokens=max_tokens)
    return {"source": source, "name": name, **report.model_dump()}


@router.post("/build/socratic", status_code=202, dependencies=[ApiKey], responses=submitted())
async def build_socratic(
    body: SocraticBuildParams,
    state: State,
    idempotency_key: str | None = IdempotencyKeyHeader,
) -> JSONResponse:
    """Build hint / explain / check examples from GSM8K train (a job)."""
    return await submit_job(
        state,
        "build_socratic",
        body.model_dump(mode="json"),
        idempotency_key=idempotency_key,
        location="/jobs/{id}",
    )


@router.post("/build/teacher", status_code=202, dependencies=[ApiKey], responses=submitted())
async def build_teacher(
    body: TeacherBuildParams,
    state: State,
    idempotency_key: str | None = IdempotencyKeyHeader,
) -> JSONResponse:
    """Build distillation data from a registered teacher model (a job)."""
    return await submit_job(
        state,
        "build_teacher",
        body.model_dump(mode="json"),
        idempotency_key=idempotency_key,
        location="/jobs/{id}",
    )


async def _upload_source(
    request: Request, settings: DataServiceSettings
) -> tuple[UploadSource, UploadOptions]:
    """The file and options of a ``POST /training-sets``: a multipart upload or a JSON path."""
    limit = settings.max_upload_bytes
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        _body_limit(request, limit)
        filename, data, fields = await multipart_upload(request)
        if len(data) > limit:
            raise HTTPException(413, f"file: {len(data)} bytes, over the {limit}-byte limit")
        try:
            options = UploadOptions.model_validate({"name": filename or "upload", **fields})
        except ValidationError as exc:
            raise _invalid(exc) from exc
        return UploadSource("upload", filename or "upload", data), options
    if media == "application/json":
        _body_limit(request, 1024 * 1024)
        try:
            spec = PathUpload.model_validate_json(await request.body() or b"null")
        except ValidationError as exc:
            raise _invalid(exc) from exc
        roots = {"data directory": settings.data_dir}
        if settings.dataset_mirror is not None:
            roots["dataset mirror"] = settings.dataset_mirror
        path = resolve_inside(spec.path, roots)
        size = path.stat().st_size
        if size > limit:
            raise HTTPException(413, f"path: the file is {size} bytes, over the {limit}-byte limit")
        data = await asyncio.to_thread(path.read_bytes)
        options = UploadOptions.model_validate(spec.model_dump(exclude={"path"}))
        return UploadSource("path", spec.path, data, path), options
    raise HTTPException(
        415,
        "content-type: send multipart/form-data with the JSONL as 'file', or application/json "
        '{"path": …, "name": …}',
    )


@router.post(
    "",
    status_code=201,
    dependencies=[ApiKey],
    responses={
        201: {"model": TrainingSetCreated, "description": "Created."},
        200: {
            "model": TrainingSetCreated,
            "description": "The same content (and options) already is this set.",
        },
        **errors(404, 409, 413, 415, 422),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            **_FILE_PART,
                            **UploadOptions.model_json_schema()["properties"],
                        },
                        "required": ["file"],
                    }
                },
                "application/json": {"schema": PathUpload.model_json_schema()},
            },
        }
    },
)
async def create_set(
    request: Request, state: State, settings: Settings, datasets: DatasetsDep
) -> JSONResponse:
    """A user's own JSONL as a training set: a multipart upload (field ``file``; optional form
    fields ``name``, ``description`` and the options) or ``{"path", "name", …}`` (a file inside
    the data directory or the dataset mirror). Validated, checked for test-set overlap, stored
    with a card like a built set. ``201`` when created; ``200`` with the same set when the same
    content (and options) already is one."""
    source, options = await _upload_source(request, settings)
    try:
        row, created = await create_uploaded_set(
            source, options, store=datasets, sessions=state.sessions
        )
    except UploadRejected as exc:
        detail = [
            {"field": p.field or "line", "line": p.line, "code": p.code, "msg": p.message}
            for p in exc.problems[:MAX_PROBLEMS_SHOWN]
        ]
        raise HTTPException(
            422, {"error": str(exc), "detail": detail, "problems": len(exc.problems)}
        ) from exc
    except ReferencesMissing as exc:
        raise HTTPException(409, f"require_references: {exc}") from exc
    body = TrainingSetCreated(**TrainingSetPublic.of(row).model_dump(), created=created)
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=201 if created else 200,
        headers={"location": f"/training-sets/{row.id}"},
    )


@router.get("")
async def list_sets(
    sets: TrainingSetsDep,
    builder: Literal["socratic", "teacher", "upload"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = OffsetQuery,
) -> list[TrainingSetSummary]:
    """Built and uploaded sets, newest first."""
    rows = await sets.list(builder, limit, offset)
    return [TrainingSetSummary.of(r) for r in rows]


@router.get("/{set_id}", responses=errors(404))
async def show_set(set_id: str, sets: TrainingSetsDep) -> TrainingSetPublic:
    """A set with its card (source, builder, params, counts, checksum, contamination report)."""
    row = await sets.get(set_id)
    if row is None:
        raise HTTPException(404, f"training set {set_id!r} not found")
    return TrainingSetPublic.of(row)


@router.get(
    "/{set_id}/download",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The part as JSONL.",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
        **errors(404),
    },
)
async def download_set(
    set_id: str,
    sets: TrainingSetsDep,
    part: Literal["train", "eval"] = "train",
    format: Literal["prompt", "messages"] = Query(
        default="prompt", description="prompt: {prompt, response, …}; messages: {messages, …}"
    ),
) -> FileResponse:
    """One part of a set as JSONL."""
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
