"""POST /chat: the tutor's reply through the tutoring policy, whole or streamed (SSE)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse
from tutorlab.clients import ChatChunk, ModelEndpointError
from tutorlab.contracts.chat import TutorChatRequest, TutorChatResponse, Usage
from tutorlab.contracts.endpoints import KeyEnvNotAllowed
from tutorlab.service.deps import ApiKey
from tutorlab.service.responses import errors
from tutorlab.tutoring import PROMPT_VERSION, build_messages

from tutor_api.deps import ClientsDep, RegistryDep
from tutor_api.models import ModelEndpointRow
from tutor_api.registry import EndpointNotFound, NoActiveModel, Registry
from tutor_api.routes.models import key_env_stale

router = APIRouter(tags=["chat"])


async def _endpoint(registry: Registry, name: str | None) -> ModelEndpointRow:
    try:
        return await (registry.get(name) if name else registry.active())
    except EndpointNotFound as exc:
        raise HTTPException(404, f"model: {exc}") from exc
    except NoActiveModel as exc:
        raise HTTPException(409, f"model: {exc}") from exc


def _bad_gateway(name: str, exc: ModelEndpointError) -> HTTPException:
    return HTTPException(
        502,
        {
            "error": f"model endpoint {name!r} failed: {exc.cause}",
            "endpoint": name,
            "cause": exc.cause,
        },
    )


@router.post(
    "/chat",
    dependencies=[ApiKey],
    response_model=TutorChatResponse,
    responses={
        **errors(404, 409, 502),
        200: {
            "description": "The reply; with ``stream: true``, an event stream of ``delta`` "
            "events and one ``done`` event (or an ``error`` event) carrying the same object",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
    },
)
async def chat(  # type: ignore[no-untyped-def]
    body: TutorChatRequest, registry: RegistryDep, clients: ClientsDep
):
    """The tutor's reply. ``stream: true`` answers ``text/event-stream``: ``delta`` events, then
    one ``done`` event carrying the same object the non-streaming call returns."""
    row = await _endpoint(registry, body.model)
    try:
        client = await clients.get(row)
    except KeyEnvNotAllowed as exc:
        raise key_env_stale(row.name, exc) from exc
    messages = build_messages(body.message, body.mode, body.grade, body.history)
    if body.stream:
        # wait for the first piece here, so an endpoint that fails before answering is a 502
        # (like the non-streamed call), not a 200 whose only event is an error
        started = time.perf_counter()
        chunks = client.stream(messages)
        try:
            first = await anext(chunks, None)
        except ModelEndpointError as exc:
            raise _bad_gateway(row.name, exc) from exc
        return StreamingResponse(
            _stream(row, _prepend(first, chunks), body, started),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    try:
        result = await client.chat(messages)
    except ModelEndpointError as exc:
        raise _bad_gateway(row.name, exc) from exc
    return TutorChatResponse(
        reply=result.text,
        reasoning=result.reasoning,
        model=row.name,
        mode=body.mode,
        grade=body.grade,
        usage=result.usage,
        latency_ms=round(result.latency_ms, 2),
        finish_reason=result.finish_reason,
        prompt_version=PROMPT_VERSION,
    )


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


async def _prepend(
    first: ChatChunk | None, rest: AsyncIterator[ChatChunk]
) -> AsyncIterator[ChatChunk]:
    try:
        if first is not None:
            yield first
            async for chunk in rest:
                yield chunk
    finally:
        close = getattr(rest, "aclose", None)
        if close is not None:
            await close()


async def _stream(
    row: ModelEndpointRow, chunks: AsyncIterator[ChatChunk], body: TutorChatRequest, started: float
) -> AsyncIterator[str]:
    text: list[str] = []
    reasoning: list[str] = []
    usage = Usage()
    finish_reason = None
    try:
        async for chunk in chunks:
            if chunk.reasoning:
                reasoning.append(chunk.reasoning)
            if chunk.text:
                text.append(chunk.text)
                yield _sse("delta", {"text": chunk.text})
            if chunk.done:
                finish_reason = chunk.finish_reason
                usage = chunk.usage or usage
    except ModelEndpointError as exc:
        yield _sse(
            "error",
            {"error": f"model endpoint {row.name!r} failed: {exc.cause}", "endpoint": row.name},
        )
        return
    final = TutorChatResponse(
        reply="".join(text),
        reasoning="".join(reasoning) or None,
        model=row.name,
        mode=body.mode,
        grade=body.grade,
        usage=usage,
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
        finish_reason=finish_reason,
        prompt_version=PROMPT_VERSION,
    )
    yield _sse("done", final.model_dump(mode="json"))
