"""OpenAICompatClient against recorded chat-completion JSON and SSE bodies."""

from __future__ import annotations

import pickle
import traceback
from pathlib import Path

import httpx
import pytest
from tutorlab.clients import ChatChunk, ModelEndpointError, OpenAICompatClient, build_client
from tutorlab.clients.testing import FakeTime, ScriptedTransport, byte_chunks
from tutorlab.contracts.chat import ChatMessage
from tutorlab.contracts.endpoints import ModelEndpoint

WIRE = Path(__file__).resolve().parents[1] / "fixtures" / "wire"
REASONING = (
    "Okay, the student asks about Natalia's clips. April: 48. May: half of 48 is 24. "
    "Total 48 + 24 = 72."
)
ANSWER = (
    "In April Natalia sold 48 clips. In May she sold half as many: 48 ÷ 2 = 24.\n\n"
    "Altogether: 48 + 24 = **72** clips.\n\n\\boxed{72}"
)
QUESTION = [ChatMessage(role="user", content="How many clips did Natalia sell altogether?")]
KEY = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
ENV = {"VLLM_API_KEY": KEY}


def wire(name: str) -> bytes:
    return (WIRE / name).read_bytes()


def endpoint(**overrides: object) -> ModelEndpoint:
    fields: dict[str, object] = {
        "name": "vllm-qwen",
        "kind": "openai",
        "base_url": "http://vllm.test:8000/v1",
        "model": "Qwen/Qwen3-8B",
        "api_key_env": "VLLM_API_KEY",
    }
    fields.update(overrides)
    return ModelEndpoint.model_validate(fields)


def client_for(
    transport: ScriptedTransport, env: dict[str, str] | None = None, **overrides: object
) -> OpenAICompatClient:
    client = build_client(
        endpoint(**overrides),
        transport=transport,
        retry=FakeTime().policy(),
        env=ENV if env is None else env,
    )
    assert isinstance(client, OpenAICompatClient)
    return client


def json_response(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=wire(name), headers={"content-type": "application/json"})


def sse_response(name: str, chunk_size: int = 97) -> httpx.Response:
    return httpx.Response(
        200,
        content=byte_chunks(wire(name), chunk_size),
        headers={"content-type": "text/event-stream"},
    )


async def collect(client: OpenAICompatClient) -> list[ChatChunk]:
    return [chunk async for chunk in client.stream(QUESTION)]


async def test_chat_maps_text_reasoning_usage_and_model() -> None:
    transport = ScriptedTransport(json_response("openai_chat.json"))
    async with client_for(transport) as client:
        result = await client.chat(QUESTION)
    assert result.text == ANSWER
    assert result.reasoning == REASONING
    assert result.finish_reason == "stop"
    assert result.usage.model_dump() == {
        "prompt_tokens": 61,
        "completion_tokens": 118,
        "total_tokens": 179,
    }
    assert result.model == "Qwen/Qwen3-8B"
    assert result.attempts == 1
    assert result.latency_ms >= 0.0
    request = transport.requests[0]
    assert str(request.url) == "http://vllm.test:8000/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"


async def test_chat_request_body_passes_params_through() -> None:
    transport = ScriptedTransport(json_response("openai_chat.json"))
    base = {"temperature": 0.6, "top_p": 0.95, "num_ctx": 16384, "repetition_penalty": 1.05}
    async with client_for(transport, params=base) as client:
        await client.chat(QUESTION, {"max_tokens": 512, "seed": 11, "stop": ["\n\n\n"]})
    body = transport.json_bodies()[0]
    assert body == {
        "model": "Qwen/Qwen3-8B",
        "messages": [{"role": "user", "content": "How many clips did Natalia sell altogether?"}],
        "temperature": 0.6,
        "top_p": 0.95,
        "repetition_penalty": 1.05,
        "max_tokens": 512,
        "seed": 11,
        "stop": ["\n\n\n"],
        "stream": False,
    }


async def test_think_param_becomes_chat_template_kwargs() -> None:
    transport = ScriptedTransport(json_response("openai_chat.json"))
    async with client_for(transport) as client:
        await client.chat(QUESTION, {"think": False})
    assert transport.json_bodies()[0]["chat_template_kwargs"] == {"enable_thinking": False}


async def test_chat_reads_reasoning_content_and_length_finish() -> None:
    transport = ScriptedTransport(json_response("openai_chat_reasoning.json"))
    async with client_for(transport) as client:
        result = await client.chat(QUESTION)
    assert result.text == ANSWER
    assert result.reasoning == REASONING
    assert result.finish_reason == "length"
    assert result.usage.completion_tokens == 120


@pytest.mark.parametrize("chunk_size", [1, 97, 1_000_000])
async def test_stream_joins_deltas_and_reads_usage_from_the_final_chunk(chunk_size: int) -> None:
    transport = ScriptedTransport(lambda _: sse_response("openai_chat_stream.sse", chunk_size))
    async with client_for(transport) as client:
        chunks = await collect(client)
    assert "".join(c.text for c in chunks) == ANSWER
    assert "".join(c.reasoning or "" for c in chunks) == REASONING
    assert [c.done for c in chunks].count(True) == 1 and chunks[-1].done
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.model_dump() == {
        "prompt_tokens": 61,
        "completion_tokens": 97,
        "total_tokens": 158,
    }
    body = transport.json_bodies()[0]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


async def test_stream_reads_reasoning_content_deltas() -> None:
    transport = ScriptedTransport(sse_response("openai_chat_stream_reasoning.sse"))
    async with client_for(transport) as client:
        chunks = await collect(client)
    assert "".join(c.text for c in chunks) == ANSWER
    assert "".join(c.reasoning or "" for c in chunks) == REASONING
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 58


async def test_stream_cut_after_finish_reason_has_no_usage() -> None:
    transport = ScriptedTransport(sse_response("openai_chat_stream_no_usage.sse"))
    async with client_for(transport) as client:
        chunks = await collect(client)
    assert "".join(c.text for c in chunks) == ANSWER
    last = chunks[-1]
    assert last.done and last.finish_reason == "stop"
    assert last.usage is not None
    assert last.usage.model_dump() == {
        "prompt_tokens": None,
        "completion_tokens": None,
        "total_tokens": None,
    }


async def test_stream_cut_without_finish_or_done_is_an_error() -> None:
    transport = ScriptedTransport(sse_response("openai_chat_stream_cut.sse"))
    received: list[ChatChunk] = []
    async with client_for(transport) as client:
        with pytest.raises(ModelEndpointError) as caught:
            async for chunk in client.stream(QUESTION):
                received.append(chunk)
    assert "without a finish_reason or [DONE]" in caught.value.cause
    assert caught.value.attempts == 1
    assert received and not any(c.done for c in received)
    assert transport.calls == 1  # part of the reply was already delivered: no silent retry


async def test_error_event_inside_a_200_stream_raises() -> None:
    transport = ScriptedTransport(sse_response("openai_chat_stream_error.sse"))
    async with client_for(transport) as client:
        with pytest.raises(ModelEndpointError, match="CUDA error") as caught:
            await collect(client)
    assert caught.value.retryable is False


async def test_error_object_in_a_200_json_body_raises() -> None:
    body = {"object": "error", "message": "model is still loading", "type": "x", "code": 200}
    transport = ScriptedTransport(httpx.Response(200, json=body))
    async with client_for(transport) as client:
        with pytest.raises(ModelEndpointError, match="model is still loading"):
            await client.chat(QUESTION)


async def test_error_status_carries_the_openai_error_message() -> None:
    transport = ScriptedTransport(json_response("openai_error_400.json", status=400))
    async with client_for(transport) as client:
        with pytest.raises(ModelEndpointError) as caught:
            await client.chat(QUESTION)
    assert caught.value.status_code == 400
    assert "maximum context length is 40960 tokens" in caught.value.cause


async def test_list_models_reads_data_ids() -> None:
    transport = ScriptedTransport(json_response("openai_models.json"))
    async with client_for(transport) as client:
        assert await client.list_models() == ["Qwen/Qwen3-8B", "tutor-sft-v3"]
    request = transport.requests[0]
    assert (request.method, str(request.url)) == ("GET", "http://vllm.test:8000/v1/models")
    assert request.headers["authorization"] == f"Bearer {KEY}"


async def test_no_authorization_header_without_api_key_env() -> None:
    transport = ScriptedTransport(json_response("openai_chat.json"))
    async with client_for(transport, env={}, api_key_env=None) as client:
        await client.chat(QUESTION)
    assert "authorization" not in transport.requests[0].headers


async def test_missing_api_key_env_var_names_the_variable() -> None:
    transport = ScriptedTransport(json_response("openai_chat.json"))
    async with client_for(transport, env={"OTHER": "x"}) as client:
        with pytest.raises(ModelEndpointError) as caught:
            await client.chat(QUESTION)
        with pytest.raises(ModelEndpointError, match="VLLM_API_KEY"):
            await collect(client)
    assert "VLLM_API_KEY" in caught.value.cause
    assert caught.value.attempts == 0
    assert caught.value.retryable is False
    assert transport.calls == 0


async def test_key_is_read_from_env_at_request_time() -> None:
    env: dict[str, str] = {}
    transport = ScriptedTransport(json_response("openai_chat.json"))
    async with client_for(transport, env=env) as client:
        with pytest.raises(ModelEndpointError):
            await client.chat(QUESTION)
        env["VLLM_API_KEY"] = KEY
        await client.chat(QUESTION)
    assert transport.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_key_never_appears_in_exception_text_or_reprs() -> None:
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}", "code": "invalid_api_key"}}
    transport = ScriptedTransport(httpx.Response(401, json=echo))
    async with client_for(transport) as client:
        with pytest.raises(ModelEndpointError) as caught:
            await client.chat(QUESTION)
        client_repr = repr(client)
    err = caught.value
    assert err.status_code == 401
    assert "Incorrect API key provided" in err.cause
    rendered = [
        str(err),
        repr(err),
        err.cause,
        "".join(traceback.format_exception(err)),
        repr(pickle.loads(pickle.dumps(err))),
        client_repr,
    ]
    for text in rendered:
        assert KEY not in text
    assert transport.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_key_never_appears_when_the_transport_fails() -> None:
    transport = ScriptedTransport(httpx.ConnectError("All connection attempts failed"))
    async with client_for(transport) as client:
        with pytest.raises(ModelEndpointError) as caught:
            await client.chat(QUESTION)
    assert caught.value.attempts == 4
    assert KEY not in "".join(traceback.format_exception(caught.value))


async def test_tinker_endpoint_uses_the_openai_compatible_api() -> None:
    transport = ScriptedTransport(json_response("openai_chat.json"))
    tinker = endpoint(
        kind="tinker",
        base_url="https://tinker.thinkingmachines.dev/services/tinker-prod/oai/api/v1",
        model="tinker://run-1234/sampler_weights/tutor-sft-000120",
        api_key_env="TINKER_API_KEY",
    )
    client = build_client(
        tinker, transport=transport, retry=FakeTime().policy(), env={"TINKER_API_KEY": KEY}
    )
    assert isinstance(client, OpenAICompatClient)
    try:
        result = await client.chat(QUESTION, {"max_tokens": 64})
    finally:
        await client.aclose()
    assert result.text == ANSWER
    request = transport.requests[0]
    assert request.url.path == "/services/tinker-prod/oai/api/v1/chat/completions"
    assert transport.json_bodies()[0]["model"] == (
        "tinker://run-1234/sampler_weights/tutor-sft-000120"
    )
