"""/tasks: the built-in tasks and the custom ones teams register (a task file, YAML or JSON)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from tutorlab.service.deps import ApiKey, State, settings_of
from tutorlab.service.responses import errors

from eval_service.catalog import load_catalog
from eval_service.config import EvalServiceSettings
from eval_service.custom_tasks import (
    MAX_TASK_FILE_BYTES,
    HubDataset,
    JsonlDataset,
    TaskDefinition,
    TaskFileError,
    check_rows,
    parse_task_file,
)
from eval_service.deps import TasksDep
from eval_service.items import ItemLoader
from eval_service.task_registry import TaskConflict

router = APIRouter(tags=["tasks"])

#: media types read as YAML (with line numbers in errors); JSON is read as JSON
YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}


def _builtin(name: str) -> dict[str, Any] | None:
    catalog = load_catalog()
    task = catalog.tasks.get(name)
    if task is None:
        return None
    return {**task.model_dump(), "prompt_version": catalog.prompts[task.prompt].version}


@router.get("/tasks")
async def list_tasks(tasks: TasksDep) -> dict[str, Any]:
    """Every task a benchmark may name: the built-in ones, then the registered custom ones
    (``custom: true``, with their version and checksum)."""
    out = {name: _builtin(name) for name in load_catalog().tasks}
    return out | {d.name: d.summary() for d in await tasks.all()}


@router.get("/tasks/{name}", responses=errors(404))
async def get_task(name: str, tasks: TasksDep) -> dict[str, Any]:
    """A task: a built-in one, or a custom one with its whole definition."""
    builtin = _builtin(name)
    if builtin is not None:
        return builtin
    definition = await tasks.get(name)
    if definition is None:
        raise HTTPException(404, f"task {name!r} not found")
    return definition.summary() | {"definition": definition.model_dump(mode="json")}


@router.post(
    "/tasks",
    status_code=201,
    dependencies=[ApiKey],
    responses={
        201: {"description": "Registered (a new task, or a new version of one)."},
        200: {"description": "The same definition was registered already; nothing changed."},
        **errors(409, 413),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {"schema": {"type": "string", "description": "a task file"}},
                "application/json": {"schema": TaskDefinition.model_json_schema()},
            },
        }
    },
)
async def register_task(request: Request, state: State, tasks: TasksDep) -> JSONResponse:
    """Register a custom task from its task file (YAML, or JSON): 201 when new or a new
    version, 200 when the same definition is registered already. Every error names the field,
    and in a YAML file its line; a JSONL dataset is read now, so a row without a field the
    task reads is named by its line too."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    body = await request.body()
    if len(body) > MAX_TASK_FILE_BYTES:
        raise HTTPException(413, f"body: over the {MAX_TASK_FILE_BYTES}-byte limit of a task file")
    if not body.strip():
        raise HTTPException(422, "body: empty; send a task file (YAML or JSON)")
    try:
        definition = parse_task_file(body, yaml_text=media != "application/json")
    except TaskFileError as exc:
        raise HTTPException(422, {"error": str(exc), "detail": exc.detail}) from exc
    if definition.name in load_catalog().tasks:
        raise HTTPException(422, f"name: {definition.name!r} is a built-in task; choose another")
    if isinstance(definition.dataset, JsonlDataset | HubDataset):
        loader = ItemLoader.for_service(settings_of(state, EvalServiceSettings))
        try:
            check_rows(definition, (await loader.custom_rows(definition)).rows)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
    try:
        created = await tasks.put(definition, body.decode("utf-8", "replace"))
    except TaskConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    return JSONResponse(
        status_code=201 if created else 200,
        content=definition.summary() | {"definition": definition.model_dump(mode="json")},
        headers={"Location": f"/tasks/{definition.name}"},
    )
