"""build_client, client lifecycle, concurrency bound, and the public types."""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport
from tutorlab.clients import (
    ChatResult,
    ModelClient,
    ModelEndpointError,
    OllamaClient,
    OpenAICompatClient,
    build_client,
)
from tutorlab.clients.testing import FakeTime, ScriptedTransport
from tutorlab.contracts.endpoints import ModelEndpoint

WIRE = Path(__file__).resolve().parents[1] / "fixtures" / "wire"
MESSAGES = [{"role": "user", "content": "What is 48 + 24?"}]


def endpoint(kind: str, **overrides: object) -> ModelEndpoint:
    fields: dict[str, object] = {
        "name": f"{kind}-1",
        "kind": kind,
        "base_url": "http://models.test:8000/v1",
        "model": "tinker://run-1/sampler_weights/final" if kind == "tinker" else "qwen3:8b",
    }
    fields.update(overrides)
    return ModelEndpoint.model_validate(fields)


@pytest.mark.parametrize(
    ("kind", "cls"),
    [("ollama", OllamaClient), ("openai", OpenAICompatClient), ("tinker", OpenAICompatClient)],
)
async def test_build_client_picks_the_client_by_kind(kind: str, cls: type) -> None:
    client = build_client(endpoint(kind))
    assert isinstance(client, cls)
    assert isinstance(client, ModelClient)
    assert client.endpoint.kind == kind
    await client.aclose()


def test_build_client_rejects_an_unknown_kind() -> None:
    fields: dict[str, object] = {
        "name": "x",
        "kind": "llamafile",
        "base_url": "http://x.test",
        "model": "m",
    }
    bogus = ModelEndpoint.model_construct(**fields)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown endpoint kind 'llamafile'"):
        build_client(bogus)


async def test_a_transport_passed_in_stays_open_and_an_own_one_is_closed() -> None:
    shared = ScriptedTransport(httpx.Response(200))
    borrowed = build_client(endpoint("openai"), transport=shared)
    await borrowed.aclose()
    assert not shared.closed

    owned = build_client(endpoint("openai"))
    transport = owned._wire.transport  # type: ignore[attr-defined]
    assert isinstance(transport, AiohttpTransport)
    closed: list[bool] = []

    async def aclose() -> None:
        closed.append(True)

    transport.aclose = aclose  # type: ignore[method-assign]
    await owned.aclose()
    assert closed == [True]


async def test_one_transport_serves_several_clients() -> None:
    transport = ScriptedTransport(
        httpx.Response(200, content=(WIRE / "ollama_tags.json").read_bytes())
    )
    for _ in range(2):
        client = build_client(
            endpoint("ollama", base_url="http://ollama.test:11434"), transport=transport
        )
        assert await client.list_models() == ["qwen3:8b", "tutor-sft-v3:latest"]
        await client.aclose()
    assert transport.calls == 2


async def test_requests_in_flight_never_exceed_max_concurrency() -> None:
    in_flight = 0
    peak = 0
    body = (WIRE / "openai_chat.json").read_bytes()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):
            await asyncio.sleep(0)
        in_flight -= 1
        return httpx.Response(200, content=body)

    client = build_client(
        endpoint("openai", max_concurrency=3),
        transport=ScriptedTransport(handler),
        retry=FakeTime().policy(),
    )
    results = await asyncio.gather(*(client.chat(MESSAGES) for _ in range(12)))
    await client.aclose()
    assert len(results) == 12 and all(r.finish_reason == "stop" for r in results)
    assert peak == 3


def test_model_endpoint_error_pickles_with_its_fields() -> None:
    err = ModelEndpointError("vllm", "HTTP 503: busy", status_code=503, retryable=True, attempts=4)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.endpoint, copy.cause, copy.status_code, copy.retryable, copy.attempts) == (
        "vllm",
        "HTTP 503: busy",
        503,
        True,
        4,
    )
    assert str(copy) == "model endpoint 'vllm': HTTP 503: busy"


async def test_chat_result_as_dict_is_json_ready() -> None:
    transport = ScriptedTransport(
        httpx.Response(200, content=(WIRE / "ollama_chat_think.json").read_bytes())
    )
    client = build_client(endpoint("ollama"), transport=transport)
    result = await client.chat(MESSAGES)
    await client.aclose()
    assert isinstance(result, ChatResult)
    data = json.loads(json.dumps(result.as_dict()))
    assert data["usage"] == {"prompt_tokens": 61, "completion_tokens": 118, "total_tokens": 179}
    assert data["attempts"] == 1 and data["finish_reason"] == "stop"


async def test_closing_a_stream_early_releases_its_concurrency_slot() -> None:
    sse = (WIRE / "openai_chat_stream.sse").read_bytes()
    chat = (WIRE / "openai_chat.json").read_bytes()
    transport = ScriptedTransport(
        lambda r: httpx.Response(200, content=sse if b'"stream":true' in r.content else chat)
    )
    client = build_client(endpoint("openai", max_concurrency=1), transport=transport)
    for _ in range(3):
        stream = client.stream(MESSAGES)
        assert isinstance(stream, AsyncGenerator)  # so a caller can close it early
        async with aclosing(stream) as chunks:
            async for chunk in chunks:
                assert chunk.reasoning or chunk.text
                break
    result = await asyncio.wait_for(client.chat(MESSAGES), timeout=5)
    await client.aclose()
    assert transport.calls == 4
    assert result.finish_reason == "stop"
