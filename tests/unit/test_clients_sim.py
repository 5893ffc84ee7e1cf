"""Both clients against the tutorlab_sim model simulator, in process (httpx.ASGITransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tutorlab.clients import ChatChunk, ModelClient, ModelEndpointError, build_client
from tutorlab.clients.testing import FakeTime
from tutorlab.contracts.endpoints import ModelEndpoint
from tutorlab.datasets.records import gsm8k_final_answer
from tutorlab_sim import SimConfig, create_app

KINDS = ["ollama", "openai"]
BASE_URL = {"ollama": "http://sim.test", "openai": "http://sim.test/v1"}


@pytest.fixture(scope="module")
def sim_app(dataset_mirror: Path) -> FastAPI:
    return create_app(SimConfig(dataset_mirror=dataset_mirror, accuracy=1.0, seed=0))


@pytest.fixture(scope="module")
def faulty_app(dataset_mirror: Path) -> Callable[..., FastAPI]:
    """A simulator with the given fault settings, built once per module and settings."""
    apps: dict[tuple[tuple[str, Any], ...], FastAPI] = {}

    def make(**faults: Any) -> FastAPI:
        key = tuple(sorted(faults.items()))
        if key not in apps:
            apps[key] = create_app(SimConfig(dataset_mirror=dataset_mirror, accuracy=1.0, **faults))
        return apps[key]

    return make


@pytest.fixture(scope="module")
def gsm8k_item(dataset_mirror: Path) -> dict[str, Any]:
    with (dataset_mirror / "gsm8k" / "test.jsonl").open(encoding="utf-8") as lines:
        item: dict[str, Any] = json.loads(next(lines))
    return item


def client(app: FastAPI, kind: str, time: FakeTime | None = None, **policy: Any) -> ModelClient:
    endpoint = ModelEndpoint(
        name=f"sim-{kind}", kind=kind, base_url=BASE_URL[kind], model="qwen3:8b"
    )
    retry = (time or FakeTime()).policy(**policy)
    return build_client(endpoint, transport=httpx.ASGITransport(app=app), retry=retry)


def question(item: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "Solve the problem. Put the final answer in \\boxed{}."},
        {"role": "user", "content": item["question"]},
    ]


async def stream_all(model: ModelClient, messages: Any, params: Any = None) -> list[ChatChunk]:
    return [chunk async for chunk in model.stream(messages, params)]


@pytest.mark.parametrize("kind", KINDS)
async def test_chat_and_stream_agree_and_answer_correctly(
    kind: str, sim_app: FastAPI, gsm8k_item: dict[str, Any]
) -> None:
    gold = gsm8k_final_answer(gsm8k_item["answer"])
    model = client(sim_app, kind)
    params = {"seed": 5, "think": True}
    result = await model.chat(question(gsm8k_item), params)
    chunks = await stream_all(model, question(gsm8k_item), params)
    await model.aclose()

    assert f"\\boxed{{{gold}}}" in result.text
    assert "<think>" not in result.text
    assert result.reasoning
    assert result.finish_reason == "stop"
    assert result.attempts == 1
    usage = result.usage
    assert usage.prompt_tokens and usage.completion_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    assert "".join(c.text for c in chunks) == result.text
    assert "".join(c.reasoning or "" for c in chunks) == result.reasoning
    assert [c.done for c in chunks].count(True) == 1 and chunks[-1].done
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage == usage


@pytest.mark.parametrize("kind", KINDS)
async def test_max_tokens_cuts_the_reply(
    kind: str, sim_app: FastAPI, gsm8k_item: dict[str, Any]
) -> None:
    model = client(sim_app, kind)
    result = await model.chat(question(gsm8k_item), {"max_tokens": 5, "think": False})
    chunks = await stream_all(model, question(gsm8k_item), {"max_tokens": 5, "think": False})
    await model.aclose()
    assert result.finish_reason == "length"
    assert result.usage.completion_tokens == 5
    assert result.reasoning is None
    assert chunks[-1].finish_reason == "length"


@pytest.mark.parametrize("kind", KINDS)
async def test_list_models(kind: str, sim_app: FastAPI) -> None:
    model = client(sim_app, kind)
    names = await model.list_models()
    await model.aclose()
    assert "qwen3:8b" in names


@pytest.mark.parametrize("kind", KINDS)
async def test_server_errors_are_retried_until_success(
    kind: str, faulty_app: Callable[..., FastAPI], gsm8k_item: dict[str, Any]
) -> None:
    app = faulty_app(error_rate=0.5, fault_seed=3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        assert (await http.delete("http://sim.test/sim/stats")).status_code == 204
    time = FakeTime()
    model = client(app, kind, time, max_attempts=12)
    results = [await model.chat(question(gsm8k_item)) for _ in range(12)]
    await model.aclose()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        stats = (await http.get("http://sim.test/sim/stats")).json()
    retried = sum(r.attempts for r in results) - len(results)
    assert retried > 0
    assert retried == stats["by_fault"]["error"]  # every injected 500 was retried, none hidden
    assert len(time.sleeps) == retried
    assert all(r.finish_reason == "stop" for r in results)


@pytest.mark.parametrize("kind", KINDS)
async def test_rate_limit_honours_the_simulators_retry_after(
    kind: str, faulty_app: Callable[..., FastAPI], gsm8k_item: dict[str, Any]
) -> None:
    app = faulty_app(rate_limit_rate=1.0, retry_after_s=2)
    time = FakeTime()
    model = client(app, kind, time, max_attempts=3)
    with pytest.raises(ModelEndpointError) as caught:
        await model.chat(question(gsm8k_item))
    await model.aclose()
    assert time.sleeps == [2.0, 2.0]
    assert caught.value.status_code == 429
    assert caught.value.attempts == 3


@pytest.mark.parametrize("kind", KINDS)
async def test_stream_error_is_raised_not_returned_as_text(
    kind: str, faulty_app: Callable[..., FastAPI], gsm8k_item: dict[str, Any]
) -> None:
    app = faulty_app(stream_error_rate=1.0)
    model = client(app, kind)
    received: list[ChatChunk] = []
    with pytest.raises(ModelEndpointError) as caught:
        async for chunk in model.stream(question(gsm8k_item)):
            received.append(chunk)
    await model.aclose()
    assert not any(c.done for c in received)
    assert caught.value.attempts == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_malformed_body_is_an_error_and_not_retried(
    kind: str, faulty_app: Callable[..., FastAPI], gsm8k_item: dict[str, Any]
) -> None:
    app = faulty_app(malformed_rate=1.0)
    model = client(app, kind)
    with pytest.raises(ModelEndpointError) as caught:
        await model.chat(question(gsm8k_item))
    await model.aclose()
    assert "malformed JSON from endpoint" in caught.value.cause
    assert caught.value.retryable is False
    assert caught.value.attempts == 1
