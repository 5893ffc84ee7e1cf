"""OllamaClient against recorded /api/chat and /api/tags bodies."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from tutorlab.clients import ChatChunk, ModelEndpointError, OllamaClient, build_client
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


def wire(name: str) -> bytes:
    return (WIRE / name).read_bytes()


def endpoint(**overrides: object) -> ModelEndpoint:
    fields: dict[str, object] = {
        "name": "local-qwen",
        "kind": "ollama",
        "base_url": "http://ollama.test:11434",
        "model": "qwen3:8b",
    }
    fields.update(overrides)
    return ModelEndpoint.model_validate(fields)


def client_for(transport: ScriptedTransport, **overrides: object) -> OllamaClient:
    client = build_client(endpoint(**overrides), transport=transport, retry=FakeTime().policy())
    assert isinstance(client, OllamaClient)
    return client


def json_response(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=wire(name), headers={"content-type": "application/json"})


def ndjson_response(name: str, chunk_size: int = 53) -> httpx.Response:
    return httpx.Response(
        200,
        content=byte_chunks(wire(name), chunk_size),
        headers={"content-type": "application/x-ndjson"},
    )


async def collect(client: OllamaClient, **kwargs: object) -> list[ChatChunk]:
    return [chunk async for chunk in client.stream(QUESTION, **kwargs)]  # type: ignore[arg-type]


async def test_chat_maps_text_reasoning_usage_and_timings() -> None:
    transport = ScriptedTransport(json_response("ollama_chat_think.json"))
    async with client_for(transport) as client:
        result = await client.chat(QUESTION)
    assert result.text == ANSWER
    assert result.reasoning == REASONING
    assert result.finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (61, 118)
    assert result.usage.total_tokens == 179
    assert result.model == "qwen3:8b"
    assert result.attempts == 1
    assert result.latency_ms >= 0.0
    assert result.timings is not None
    assert result.timings["total_ms"] == pytest.approx(2893.47712)
    assert result.timings["eval_ms"] == pytest.approx(2822.03488)
    request = transport.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "http://ollama.test:11434/api/chat"


async def test_chat_sends_stream_false_and_explicit_num_ctx() -> None:
    transport = ScriptedTransport(json_response("ollama_chat_think.json"))
    async with client_for(transport) as client:
        await client.chat([{"role": "system", "content": "You are a tutor."}, *QUESTION])
    body = transport.json_bodies()[0]
    assert body["stream"] is False
    assert body["options"] == {"num_ctx": 8192}
    assert body["model"] == "qwen3:8b"
    assert body["messages"] == [
        {"role": "system", "content": "You are a tutor."},
        {"role": "user", "content": "How many clips did Natalia sell altogether?"},
    ]


async def test_params_map_to_options_and_top_level_fields() -> None:
    transport = ScriptedTransport(json_response("ollama_chat_thinking.json"))
    params = {"temperature": 0.2, "num_ctx": 16384, "top_k": 40, "keep_alive": "10m"}
    async with client_for(transport, params=params) as client:
        await client.chat(
            QUESTION,
            {"max_tokens": 256, "seed": 7, "top_p": 0.9, "stop": ["</answer>"], "think": True},
        )
    body = transport.json_bodies()[0]
    assert body["options"] == {
        "temperature": 0.2,
        "num_ctx": 16384,
        "top_k": 40,
        "num_predict": 256,
        "seed": 7,
        "top_p": 0.9,
        "stop": ["</answer>"],
    }
    assert body["think"] is True
    assert body["keep_alive"] == "10m"
    assert "max_tokens" not in body and "max_tokens" not in body["options"]


async def test_chat_reads_reasoning_from_message_thinking() -> None:
    transport = ScriptedTransport(json_response("ollama_chat_thinking.json"))
    async with client_for(transport) as client:
        result = await client.chat(QUESTION)
    assert result.text == ANSWER
    assert result.reasoning == REASONING
    assert result.usage.completion_tokens == 114


async def test_chat_cut_inside_reasoning_has_empty_text_and_length_finish() -> None:
    transport = ScriptedTransport(json_response("ollama_chat_length.json"))
    async with client_for(transport) as client:
        result = await client.chat(QUESTION, {"max_tokens": 16})
    assert result.finish_reason == "length"
    assert result.text == ""
    assert result.reasoning == "Okay, the student asks about Natalia's clips. April: 48. May"
    assert transport.json_bodies()[0]["options"]["num_predict"] == 16


@pytest.mark.parametrize("chunk_size", [1, 53, 100_000])
async def test_stream_splits_inline_think_and_ends_with_usage(chunk_size: int) -> None:
    transport = ScriptedTransport(
        lambda _: ndjson_response("ollama_chat_stream_think.ndjson", chunk_size)
    )
    async with client_for(transport) as client:
        chunks = await collect(client)
    assert "".join(c.text for c in chunks) == ANSWER
    assert "".join(c.reasoning or "" for c in chunks) == REASONING
    assert [c.done for c in chunks].count(True) == 1 and chunks[-1].done
    last = chunks[-1]
    assert last.finish_reason == "stop"
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (61, 97)
    assert all("<think>" not in c.text and "</think>" not in c.text for c in chunks)
    body = transport.json_bodies()[0]
    assert body["stream"] is True
    assert body["options"]["num_ctx"] == 8192


async def test_stream_reads_thinking_deltas() -> None:
    transport = ScriptedTransport(ndjson_response("ollama_chat_stream_thinking.ndjson"))
    async with client_for(transport) as client:
        chunks = await collect(client)
    assert "".join(c.text for c in chunks) == ANSWER
    assert "".join(c.reasoning or "" for c in chunks) == REASONING
    # reasoning arrives before the answer starts
    first_text = next(i for i, c in enumerate(chunks) if c.text)
    assert all(c.reasoning is None for c in chunks[first_text:])
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 94


async def test_error_line_inside_a_200_stream_raises() -> None:
    transport = ScriptedTransport(ndjson_response("ollama_chat_stream_error.ndjson"))
    received: list[ChatChunk] = []
    async with client_for(transport) as client:
        with pytest.raises(ModelEndpointError) as caught:
            async for chunk in client.stream(QUESTION):
                received.append(chunk)
    err = caught.value
    assert "unexpected EOF" in err.cause
    assert err.retryable is False
    assert err.status_code is None
    assert err.attempts == 1
    assert transport.calls == 1
    assert not any(c.done for c in received)  # the partial reply is never presented as complete


async def test_error_line_as_first_line_is_not_retried() -> None:
    line = b'{"error":"llama runner process has terminated: signal: killed"}\n'
    transport = ScriptedTransport(httpx.Response(200, content=line))
    async with client_for(transport) as client:
        with pytest.raises(ModelEndpointError, match="llama runner process has terminated"):
            await collect(client)
    assert transport.calls == 1


async def test_error_json_with_non_2xx_status_carries_its_message() -> None:
    transport = ScriptedTransport(json_response("ollama_error_not_found.json", status=404))
    async with client_for(transport, model="qwen3:14b") as client:
        with pytest.raises(ModelEndpointError) as caught:
            await client.chat(QUESTION)
    err = caught.value
    assert err.status_code == 404
    assert 'model "qwen3:14b" not found, try pulling it first' in err.cause
    assert err.retryable is False
    assert err.attempts == 1
    assert err.endpoint == "local-qwen"
    assert "local-qwen" in str(err)


async def test_malformed_200_body_is_not_retried() -> None:
    transport = ScriptedTransport(httpx.Response(200, content=b"<html>Login required</html>"))
    async with client_for(transport) as client:
        with pytest.raises(ModelEndpointError) as caught:
            await client.chat(QUESTION)
    assert "malformed JSON from endpoint" in caught.value.cause
    assert caught.value.retryable is False
    assert transport.calls == 1


async def test_json_without_a_message_is_malformed() -> None:
    transport = ScriptedTransport(httpx.Response(200, json={"model": "qwen3:8b", "done": True}))
    async with client_for(transport) as client:
        with pytest.raises(ModelEndpointError, match="malformed response from endpoint"):
            await client.chat(QUESTION)


async def test_stream_cut_before_done_after_chunks_raises_without_retry() -> None:
    lines = wire("ollama_chat_stream_think.ndjson").splitlines(keepends=True)
    transport = ScriptedTransport(httpx.Response(200, content=b"".join(lines[:20])))
    async with client_for(transport) as client:
        with pytest.raises(ModelEndpointError) as caught:
            await collect(client)
    assert "before its final (done) line" in caught.value.cause
    assert caught.value.retryable is True
    assert transport.calls == 1


async def test_list_models_reads_api_tags() -> None:
    transport = ScriptedTransport(json_response("ollama_tags.json"))
    async with client_for(transport) as client:
        assert await client.list_models() == ["qwen3:8b", "tutor-sft-v3:latest"]
    request = transport.requests[0]
    assert request.method == "GET"
    assert request.url.path == "/api/tags"


async def test_bad_messages_are_rejected_before_any_request() -> None:
    transport = ScriptedTransport(json_response("ollama_chat_think.json"))
    async with client_for(transport) as client:
        with pytest.raises(ValueError, match="messages: at least one message"):
            await client.chat([])
        with pytest.raises(ValueError, match=r"messages\[1\]: missing 'role'"):
            await client.chat([{"role": "user", "content": "hi"}, {"content": "no role"}])
        with pytest.raises(TypeError, match=r"messages\[0\]"):
            client.stream(["just a string"])  # type: ignore[list-item,arg-type]
    assert transport.calls == 0


async def test_params_none_values_are_left_out() -> None:
    transport = ScriptedTransport(json_response("ollama_chat_think.json"))
    async with client_for(transport, params={"temperature": 0.7}) as client:
        await client.chat(QUESTION, {"temperature": None})
    assert json.loads(transport.requests[0].content)["options"] == {"num_ctx": 8192}
