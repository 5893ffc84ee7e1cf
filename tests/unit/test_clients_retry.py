"""Retries, backoff, Retry-After and the deadline, with a fake clock (nothing really sleeps)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tutorlab.clients import ModelEndpointError, RetryPolicy, build_client, parse_retry_after
from tutorlab.clients.protocol import ModelClient
from tutorlab.clients.testing import FakeTime, ScriptedTransport
from tutorlab.contracts.endpoints import ModelEndpoint

WIRE = Path(__file__).resolve().parents[1] / "fixtures" / "wire"
MESSAGES = [{"role": "user", "content": "What is 48 + 24?"}]


def wire(name: str) -> bytes:
    return (WIRE / name).read_bytes()


OLLAMA = ModelEndpoint(
    name="ollama", kind="ollama", base_url="http://ollama.test:11434", model="qwen3:8b"
)
OPENAI = ModelEndpoint(
    name="vllm", kind="openai", base_url="http://vllm.test:8000/v1", model="Qwen/Qwen3-8B"
)
OK = {
    "ollama": httpx.Response(200, content=wire("ollama_chat_think.json")),
    "openai": httpx.Response(200, content=wire("openai_chat.json")),
}


def make(
    transport: ScriptedTransport, time: FakeTime, kind: str = "openai", **policy: object
) -> ModelClient:
    return build_client(
        OPENAI if kind == "openai" else OLLAMA,
        transport=transport,
        retry=time.policy(**policy),
    )


def status(code: int, headers: dict[str, str] | None = None) -> httpx.Response:
    name = "openai_error_429.json" if code == 429 else "openai_error_503.json"
    return httpx.Response(code, content=wire(name), headers=headers)


@pytest.mark.parametrize("kind", ["openai", "ollama"])
async def test_429_honours_retry_after_seconds_then_succeeds(kind: str) -> None:
    time = FakeTime()
    transport = ScriptedTransport(status(429, {"Retry-After": "3"}), OK[kind])
    client = make(transport, time, kind)
    result = await client.chat(MESSAGES)
    await client.aclose()
    assert time.sleeps == [3.0]
    assert result.attempts == 2
    assert transport.calls == 2
    assert "72" in result.text


async def test_429_honours_retry_after_http_date_relative_to_the_date_header() -> None:
    time = FakeTime()
    headers = {
        "Date": "Tue, 03 Jun 2025 14:21:07 GMT",
        "Retry-After": "Tue, 03 Jun 2025 14:21:37 GMT",
    }
    transport = ScriptedTransport(status(429, headers), OK["openai"])
    client = make(transport, time)
    result = await client.chat(MESSAGES)
    await client.aclose()
    assert time.sleeps == [30.0]
    assert result.attempts == 2


async def test_5xx_is_retried_with_exponential_backoff() -> None:
    time = FakeTime()
    transport = ScriptedTransport(status(503), status(502), OK["openai"])
    client = make(transport, time)
    result = await client.chat(MESSAGES)
    await client.aclose()
    assert time.sleeps == [0.5, 1.0]
    assert result.attempts == 3


async def test_full_jitter_scales_the_backoff_by_the_random_source() -> None:
    time = FakeTime()
    transport = ScriptedTransport(status(500), status(500), OK["openai"])
    client = make(transport, time, random=lambda: 0.25)
    await client.chat(MESSAGES)
    await client.aclose()
    assert time.sleeps == [0.125, 0.25]


@pytest.mark.parametrize("code", [400, 401, 403, 404, 422])
async def test_other_4xx_are_not_retried(code: int) -> None:
    time = FakeTime()
    transport = ScriptedTransport(
        httpx.Response(code, content=wire("openai_error_400.json")), OK["openai"]
    )
    client = make(transport, time)
    with pytest.raises(ModelEndpointError) as caught:
        await client.chat(MESSAGES)
    await client.aclose()
    assert transport.calls == 1
    assert time.sleeps == []
    assert caught.value.status_code == code
    assert caught.value.retryable is False
    assert caught.value.attempts == 1
    assert f"HTTP {code}" in caught.value.cause


async def test_408_is_retried() -> None:
    time = FakeTime()
    transport = ScriptedTransport(httpx.Response(408, text="Request Timeout"), OK["ollama"])
    client = make(transport, time, "ollama")
    assert (await client.chat(MESSAGES)).attempts == 2
    await client.aclose()


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("All connection attempts failed"),
        httpx.ConnectTimeout("timed out"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
async def test_connection_errors_and_timeouts_are_retried(failure: Exception) -> None:
    time = FakeTime()
    transport = ScriptedTransport(failure, OK["ollama"])
    client = make(transport, time, "ollama")
    result = await client.chat(MESSAGES)
    await client.aclose()
    assert result.attempts == 2
    assert time.sleeps == [0.5]


async def test_giving_up_after_max_attempts_reports_the_last_failure() -> None:
    time = FakeTime()
    transport = ScriptedTransport(status(503))
    client = make(transport, time, max_attempts=3)
    with pytest.raises(ModelEndpointError) as caught:
        await client.chat(MESSAGES)
    await client.aclose()
    err = caught.value
    assert transport.calls == 3
    assert err.attempts == 3
    assert err.retryable is True
    assert err.status_code == 503
    assert "overloaded" in err.cause and "gave up after 3 attempts" in err.cause


async def test_deadline_bounds_attempts_and_sleeps_together() -> None:
    time = FakeTime()

    def slow_503(request: httpx.Request) -> httpx.Response:
        time.advance(100.0)  # each attempt takes 100 s of (fake) time
        return status(503)

    transport = ScriptedTransport(slow_503)
    client = make(transport, time, max_attempts=10, deadline_s=250.0)
    with pytest.raises(ModelEndpointError) as caught:
        await client.chat(MESSAGES)
    await client.aclose()
    assert transport.calls == 3
    assert caught.value.attempts == 3
    assert "deadline" in caught.value.cause
    assert time.sleeps == [0.5, 1.0]


async def test_retry_after_beyond_the_deadline_gives_up_without_sleeping() -> None:
    time = FakeTime()
    transport = ScriptedTransport(status(429, {"Retry-After": "3600"}), OK["openai"])
    client = make(transport, time, deadline_s=600.0)
    with pytest.raises(ModelEndpointError) as caught:
        await client.chat(MESSAGES)
    await client.aclose()
    assert time.sleeps == []
    assert transport.calls == 1
    assert caught.value.status_code == 429
    assert "Retry-After of 3600 s" in caught.value.cause


async def test_each_attempt_is_bounded_by_the_attempt_timeout() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return status(200)

    time = FakeTime()
    transport = ScriptedTransport(hang)
    client = make(transport, time, max_attempts=2, attempt_timeout_s=0.02)
    with pytest.raises(ModelEndpointError) as caught:
        await client.chat(MESSAGES)
    await client.aclose()
    assert transport.calls == 2
    assert caught.value.retryable is True
    assert "no complete response within 0.02 s" in caught.value.cause


async def test_stream_retries_before_the_first_chunk() -> None:
    time = FakeTime()
    transport = ScriptedTransport(
        status(503),
        httpx.ConnectError("Connection refused"),
        httpx.Response(200, content=wire("openai_chat_stream.sse")),
    )
    client = make(transport, time)
    chunks = [chunk async for chunk in client.stream(MESSAGES)]
    await client.aclose()
    assert transport.calls == 3
    assert time.sleeps == [0.5, 1.0]
    assert chunks[-1].done and chunks[-1].finish_reason == "stop"


async def test_stream_does_not_retry_a_400() -> None:
    time = FakeTime()
    transport = ScriptedTransport(httpx.Response(400, content=wire("openai_error_400.json")))
    client = make(transport, time)
    with pytest.raises(ModelEndpointError, match="maximum context length") as caught:
        [chunk async for chunk in client.stream(MESSAGES)]
    await client.aclose()
    assert caught.value.status_code == 400
    assert transport.calls == 1


async def test_malformed_200_body_is_not_retried() -> None:
    time = FakeTime()
    transport = ScriptedTransport(httpx.Response(200, content=b'{"choices": [{"mess'))
    client = make(transport, time)
    with pytest.raises(ModelEndpointError) as caught:
        await client.chat(MESSAGES)
    await client.aclose()
    assert caught.value.cause == "malformed JSON from endpoint (HTTP 200)"
    assert caught.value.retryable is False
    assert transport.calls == 1


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=3.0, jitter=False)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    jittered = RetryPolicy(base_delay_s=0.5, max_delay_s=3.0, random=lambda: 0.5)
    assert [jittered.backoff(n) for n in range(1, 5)] == [0.25, 0.5, 1.0, 1.5]


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_attempts", 0), ("base_delay_s", -1.0), ("deadline_s", 0.0), ("attempt_timeout_s", -5)],
)
def test_retry_policy_rejects_bad_values_naming_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        RetryPolicy(**{field: value})  # type: ignore[arg-type]


def test_parse_retry_after() -> None:
    now = datetime(2025, 6, 3, 14, 21, 7, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("Tue, 03 Jun 2025 14:22:07 GMT", now=now) == 60.0
    assert parse_retry_after("Tue, 03 Jun 2025 14:20:07 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after(None) is None


async def test_the_deadline_also_cuts_a_running_attempt() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return status(200)

    time = FakeTime()
    transport = ScriptedTransport(hang)
    client = make(transport, time, attempt_timeout_s=60.0, deadline_s=0.02)
    with pytest.raises(ModelEndpointError) as caught:
        await client.chat(MESSAGES)
    await client.aclose()
    assert transport.calls == 1
    assert "before the 0.02 s deadline" in caught.value.cause
    assert time.sleeps == []


async def test_a_stream_gives_its_concurrency_slot_back_however_it_ends() -> None:
    time = FakeTime()
    one_slot = OPENAI.model_copy(update={"max_concurrency": 1})
    transport = ScriptedTransport(
        httpx.Response(200, content=wire("openai_chat_stream.sse")),
        httpx.Response(200, content=b'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\n'),
        httpx.Response(200, content=wire("openai_chat.json")),
    )
    client = build_client(one_slot, transport=transport, retry=time.policy())
    slots = client._wire._slots  # type: ignore[attr-defined]
    stream = client.stream(MESSAGES)
    first = await anext(stream)  # type: ignore[call-overload]
    assert not first.done and slots.locked()
    await stream.aclose()  # type: ignore[attr-defined]  # abandoned after its first chunk
    assert not slots.locked()
    # cut after part of the reply: not retried, and the slot is free again
    with pytest.raises(ModelEndpointError, match="after part of the reply") as caught:
        [chunk async for chunk in client.stream(MESSAGES)]
    assert caught.value.retryable is True and not slots.locked()
    assert (await client.chat(MESSAGES)).text
    await client.aclose()
    assert transport.calls == 3
