"""/models: register, list, inspect, update, delete, probe and activate model endpoints."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import ValidationError
from tutorlab.clients import ModelEndpointError
from tutorlab.contracts.chat import ChatMessage
from tutorlab.contracts.endpoints import (
    KeyEnvNotAllowed,
    ModelEndpoint,
    ModelEndpointCreate,
    ModelEndpointUpdate,
    ModelParams,
)
from tutorlab.service.deps import ApiKey
from tutorlab.service.errors import validation_detail
from tutorlab.service.responses import errors

from tutor_api.deps import ClientsDep, RegistryDep
from tutor_api.registry import EndpointExists, EndpointNotFound
from tutor_api.schemas import ProbeResult

router = APIRouter(prefix="/models", tags=["models"])


def key_env_refused(exc: KeyEnvNotAllowed) -> HTTPException:
    """422 naming ``api_key_env``: the variable is not on the operator's allow-list."""
    message = str(exc).removeprefix(f"{exc.field}: ")
    detail = [
        {"field": exc.field, "loc": ["body", exc.field], "msg": message, "type": "value_error"}
    ]
    return HTTPException(422, {"error": str(exc), "detail": detail})


def key_env_stale(name: str, exc: KeyEnvNotAllowed) -> HTTPException:
    """409: a model registered before the allow-list names a variable no longer allowed."""
    return HTTPException(409, f"model: {name!r} cannot be used: {exc} (PATCH its api_key_env)")


@router.post("", status_code=201, dependencies=[ApiKey], responses=errors(409))
async def register_model(
    body: ModelEndpointCreate, registry: RegistryDep, response: Response
) -> ModelEndpoint:
    """Register an endpoint. Keys are never stored: ``api_key_env`` names the variable."""
    try:
        row = await registry.create(body)
    except KeyEnvNotAllowed as exc:
        raise key_env_refused(exc) from exc
    except EndpointExists as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"name: a model named {body.name!r} is already registered"
        ) from exc
    response.headers["Location"] = f"/models/{row.name}"
    return row.to_endpoint()


@router.get("")
async def list_models(registry: RegistryDep) -> list[ModelEndpoint]:
    return [row.to_endpoint() for row in await registry.list()]


@router.get("/{name}", responses=errors(404))
async def show_model(name: str, registry: RegistryDep) -> ModelEndpoint:
    try:
        return (await registry.get(name)).to_endpoint()
    except EndpointNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.patch("/{name}", dependencies=[ApiKey], responses=errors(404))
async def update_model(
    name: str, body: ModelEndpointUpdate, registry: RegistryDep, clients: ClientsDep
) -> ModelEndpoint:
    try:
        row = await registry.update(name, body)
    except EndpointNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except KeyEnvNotAllowed as exc:
        raise key_env_refused(exc) from exc
    except ValidationError as exc:  # the updated endpoint breaks a registration rule
        detail = validation_detail([dict(e) for e in exc.errors()])
        summary = "; ".join(f"{d['field']}: {d['msg']}" for d in detail)
        raise HTTPException(422, {"error": summary, "detail": detail}) from exc
    await clients.forget(name)
    return row.to_endpoint()


@router.delete("/{name}", status_code=204, dependencies=[ApiKey], responses=errors(404))
async def delete_model(name: str, registry: RegistryDep, clients: ClientsDep) -> Response:
    try:
        await registry.delete(name)
    except EndpointNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    await clients.forget(name)
    return Response(status_code=204)


@router.post("/{name}/activate", dependencies=[ApiKey], responses=errors(404))
async def activate_model(name: str, registry: RegistryDep) -> ModelEndpoint:
    """Make this the model ``/chat`` uses when a request names none."""
    try:
        return (await registry.activate(name)).to_endpoint()
    except EndpointNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.post("/{name}/probe", dependencies=[ApiKey], responses=errors(404, 409))
async def probe_model(name: str, registry: RegistryDep, clients: ClientsDep) -> ProbeResult:
    """Reachability (the model list) and a one-token chat. ``ok`` says whether both worked."""
    try:
        row = await registry.get(name)
    except EndpointNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    try:
        client = await clients.get(row)
    except KeyEnvNotAllowed as exc:
        raise key_env_stale(name, exc) from exc
    result = ProbeResult(name=name, ok=False, reachable=False)
    try:
        listed = await client.list_models()
        result.reachable = True
        result.listed_models = listed[:50]
        result.model_listed = row.model in listed or any(
            m.split(":")[0] == row.model for m in listed
        )
    except ModelEndpointError as exc:
        result.error = f"list models: {exc.cause}"
    started = time.perf_counter()
    try:
        reply = await client.chat(
            [ChatMessage(role="user", content="Reply with the single word: ok")],
            ModelParams(max_tokens=1, temperature=0.0),
        )
        result.reachable = True
        result.reply = reply.text
        result.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        result.ok = True
    except ModelEndpointError as exc:
        result.error = (
            f"chat: {exc.cause}" if result.error is None else f"{result.error}; chat: {exc.cause}"
        )
    return result
