"""Fan-out and the response cache: one outcome per request, bounded concurrency, failures as
errors (never replies), cache hits without a call, and no task outliving a failed fan-out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from sqlmodel import SQLModel
from tutorlab.cache import ResponseCache, ResponseCacheEntry, cache_key
from tutorlab.clients import ChatResult, ModelEndpointError, build_client
from tutorlab.clients.testing import FakeTime
from tutorlab.contracts.chat import Usage
from tutorlab.contracts.endpoints import ModelEndpoint, ModelParams
from tutorlab.db import create_engine, session_factory
from tutorlab.fanout import FanoutOutcome, FanoutRequest, FanoutStats, fan_out

ENDPOINT = ModelEndpoint(
    name="fake", kind="openai", base_url="http://model.test/v1", model="m", max_concurrency=4
)


def requests(n: int, params: ModelParams | None = None) -> list[FanoutRequest]:
    return [
        FanoutRequest(id=f"r{i}", messages=[{"role": "user", "content": f"q{i}"}], params=params)
        for i in range(n)
    ]


def result(text: str) -> ChatResult:
    usage = Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5)
    return ChatResult(text, None, "stop", usage, latency_ms=7.0, attempts=1, model="m")


class FakeClient:
    """A model client that answers ``a:<question>`` after yielding to the loop a few times,
    tracks how many calls are in flight, and fails the questions named in ``failures``."""

    def __init__(
        self,
        endpoint: ModelEndpoint = ENDPOINT,
        failures: Mapping[str, ModelEndpointError | Exception] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.failures = dict(failures or {})
        self.calls: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def chat(
        self, messages: list[dict[str, str]], params: ModelParams | None = None
    ) -> ChatResult:
        question = messages[-1]["content"]
        self.calls.append(question)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            if question in self.failures:
                raise self.failures[question]
            return result(f"a:{question}")
        finally:
            self.in_flight -= 1


class Collector:
    """``on_batch`` that keeps every batch."""

    def __init__(self) -> None:
        self.batches: list[list[FanoutOutcome]] = []

    async def __call__(self, batch: list[FanoutOutcome]) -> None:
        self.batches.append(batch)

    @property
    def outcomes(self) -> list[FanoutOutcome]:
        return [o for batch in self.batches for o in batch]

    def by_id(self) -> dict[str, FanoutOutcome]:
        ids = [o.id for o in self.outcomes]
        assert len(ids) == len(set(ids)), "an outcome was handed over twice"
        return {o.id: o for o in self.outcomes}


async def run(
    client: Any, reqs: list[FanoutRequest], **kwargs: Any
) -> tuple[FanoutStats, Collector]:
    collect = Collector()
    kwargs.setdefault("concurrency", 4)
    stats = await fan_out(client, reqs, collect, **kwargs)
    return stats, collect


# --- outcomes and concurrency -------------------------------------------------------------------


async def test_every_request_yields_exactly_one_outcome() -> None:
    client = FakeClient()
    stats, collect = await run(client, requests(200), concurrency=8, flush_every=10)
    outcomes = collect.by_id()
    assert set(outcomes) == {f"r{i}" for i in range(200)}
    for i in range(200):
        outcome = outcomes[f"r{i}"]
        assert outcome.result is not None and outcome.result.text == f"a:q{i}"
        assert outcome.error is None and outcome.cached is False
    assert sorted(client.calls) == sorted(f"q{i}" for i in range(200))
    assert (stats.requested, stats.succeeded, stats.failed, stats.cached) == (200, 200, 0, 0)
    # handed over as they complete, in several batches, not all at the end
    assert len(collect.batches) > 1


@pytest.mark.parametrize(("limit", "n", "expected"), [(1, 10, 1), (3, 30, 3), (16, 5, 5)])
async def test_concurrency_never_exceeds_the_limit(limit: int, n: int, expected: int) -> None:
    client = FakeClient()
    stats, collect = await run(client, requests(n), concurrency=limit)
    assert client.max_in_flight == expected  # reached, never passed
    assert client.in_flight == 0
    assert len(collect.outcomes) == n == stats.succeeded


async def test_endpoint_errors_are_outcomes_with_an_error_and_no_result() -> None:
    failures = {
        "q1": ModelEndpointError("fake", "HTTP 500 from endpoint", status_code=500, attempts=4),
        "q4": ModelEndpointError("fake", "ConnectError calling /chat/completions", attempts=4),
        "q7": ModelEndpointError("fake", "HTTP 500 from endpoint", status_code=500, attempts=4),
    }
    stats, collect = await run(FakeClient(failures=failures), requests(10))
    outcomes = collect.by_id()
    assert len(outcomes) == 10
    for request_id, cause in (("r1", "HTTP 500"), ("r4", "ConnectError"), ("r7", "HTTP 500")):
        failed = outcomes[request_id]
        assert failed.result is None and failed.error is not None and cause in failed.error
    assert all(o.error is None and o.result for i, o in outcomes.items() if i not in "r1 r4 r7")
    assert (stats.succeeded, stats.failed) == (7, 3)
    assert stats.errors == {"status 500": 2, "transport": 1}


def completion(content: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6},
        },
    )


async def test_with_a_real_client_on_a_mock_transport() -> None:
    """HTTP failures become error outcomes after the client's own retries."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        question = json.loads(request.content)["messages"][-1]["content"]
        seen.append(question)
        if question == "q2":
            return httpx.Response(500, json={"error": {"message": "boom"}})
        if question == "q3":
            return httpx.Response(400, json={"error": {"message": "bad prompt"}})
        return completion(f"a:{question}")

    client = build_client(
        ENDPOINT, transport=httpx.MockTransport(handler), retry=FakeTime().policy(max_attempts=3)
    )
    try:
        stats, collect = await run(client, requests(6), concurrency=ENDPOINT.max_concurrency)
    finally:
        await client.aclose()
    outcomes = collect.by_id()
    assert len(outcomes) == 6
    assert outcomes["r0"].result is not None and outcomes["r0"].result.text == "a:q0"
    assert outcomes["r2"].result is None and "500" in (outcomes["r2"].error or "")
    assert outcomes["r3"].result is None and "400" in (outcomes["r3"].error or "")
    assert seen.count("q2") == 3 and seen.count("q3") == 1  # 5xx retried, 400 not
    assert (stats.succeeded, stats.failed) == (4, 2)
    assert stats.errors == {"status 500": 1, "status 400": 1}


async def test_should_stop_stops_sending() -> None:
    client = FakeClient()
    stats, collect = await run(
        client, requests(50), concurrency=2, should_stop=lambda: len(client.calls) >= 10
    )
    assert 10 <= len(client.calls) < 50
    assert len(collect.by_id()) == len(client.calls) == stats.succeeded


# --- failures inside fan_out --------------------------------------------------------------------


class JobCancelled(Exception):
    """What a job's progress callback raises when the job was cancelled."""


def tasks_other_than(current: asyncio.Task[Any] | None) -> set[asyncio.Task[Any]]:
    return {task for task in asyncio.all_tasks() if task is not current}


async def test_an_exception_in_on_batch_propagates_and_leaves_no_task_running() -> None:
    client = FakeClient()
    before = tasks_other_than(asyncio.current_task())
    handed: list[int] = []

    async def on_batch(batch: list[FanoutOutcome]) -> None:
        handed.append(len(batch))
        raise JobCancelled("cancelled by the user")

    with pytest.raises(JobCancelled, match="cancelled by the user"):
        await fan_out(cast(Any, client), requests(500), on_batch, concurrency=8, flush_every=5)
    assert tasks_other_than(asyncio.current_task()) == before
    assert client.in_flight == 0 and len(handed) == 1
    sent = len(client.calls)
    assert sent < 500
    for _ in range(20):
        await asyncio.sleep(0)
    assert len(client.calls) == sent  # nothing is sent after fan_out has raised


async def test_an_unexpected_client_exception_stops_every_sender() -> None:
    client = FakeClient(failures={"q5": RuntimeError("bug in the client")})
    before = tasks_other_than(asyncio.current_task())
    with pytest.raises(RuntimeError, match="bug in the client"):
        await run(client, requests(300), concurrency=4)
    assert tasks_other_than(asyncio.current_task()) == before
    sent = len(client.calls)
    for _ in range(20):
        await asyncio.sleep(0)
    assert len(client.calls) == sent < 300


# --- the response cache -------------------------------------------------------------------------


async def make_cache(url: str) -> tuple[ResponseCache, Any]:
    engine = create_engine(url)
    async with engine.begin() as conn:
        table = ResponseCacheEntry.__table__  # type: ignore[attr-defined]
        await conn.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=[table]))
    return ResponseCache(session_factory(engine)), engine


@pytest.fixture
async def cache(tmp_path: Path) -> AsyncIterator[ResponseCache]:
    response_cache, engine = await make_cache(f"sqlite+aiosqlite:///{tmp_path / 'cache.db'}")
    yield response_cache
    await engine.dispose()


async def test_cache_hits_are_served_without_calling_the_client(cache: ResponseCache) -> None:
    params = ModelParams(temperature=0.0, seed=1)
    cold_client = FakeClient(
        failures={"q3": ModelEndpointError("fake", "HTTP 503", status_code=503)}
    )
    cold, cold_out = await run(cold_client, requests(8, params), cache=cache)
    assert len(cold_client.calls) == 8 and cold.cached == 0
    assert all(not o.cached and o.cache_key for o in cold_out.outcomes if o.result)

    warm_client = FakeClient()
    warm, warm_out = await run(warm_client, requests(8, params), cache=cache)
    outcomes = warm_out.by_id()
    # only the request that failed before is sent again: a failure is never cached
    assert warm_client.calls == ["q3"]
    assert (warm.requested, warm.cached, warm.succeeded) == (8, 7, 1)
    for i in range(8):
        outcome = outcomes[f"r{i}"]
        assert outcome.result is not None and outcome.result.text == f"a:q{i}"
        assert outcome.cached is (i != 3)
    hit = outcomes["r0"].result
    assert hit is not None and hit.attempts == 0 and hit.latency_ms == 7.0
    assert hit.usage.total_tokens == 5 and hit.model == "m"

    again = FakeClient()
    third, _ = await run(again, requests(8, params), cache=cache)
    assert again.calls == [] and third.cached == 8


@pytest.mark.parametrize(
    "change",
    [
        {"params": ModelParams(temperature=0.7, seed=1)},
        {"params": ModelParams(temperature=0.0, seed=2)},
        {"epoch": 1},
        {"endpoint": ENDPOINT.model_copy(update={"model": "other-model"})},
        {"endpoint": ENDPOINT.model_copy(update={"base_url": "http://other.test/v1"})},
    ],
)
async def test_different_params_epoch_or_endpoint_miss_the_cache(
    cache: ResponseCache, change: dict[str, Any]
) -> None:
    params = ModelParams(temperature=0.0, seed=1)
    await run(FakeClient(), requests(5, params), cache=cache)
    client = FakeClient(change.get("endpoint", ENDPOINT))
    stats, collect = await run(
        client, requests(5, change.get("params", params)), cache=cache, epoch=change.get("epoch", 0)
    )
    assert stats.cached == 0 and len(client.calls) == 5
    assert not any(o.cached for o in collect.outcomes)


def test_cache_key_covers_what_determines_a_reply() -> None:
    messages = [{"role": "user", "content": "q"}]
    base = cache_key(ENDPOINT, messages, ModelParams(temperature=0.0))
    assert base == cache_key(ENDPOINT, messages, ModelParams(temperature=0.0))
    assert len(base) == 64
    # the endpoint's own params and an equal override give the same effective params
    tuned = ENDPOINT.model_copy(update={"params": ModelParams(temperature=0.0)})
    assert cache_key(tuned, messages, None) == base
    assert (
        cache_key(ENDPOINT, [{"role": "system", "content": "q"}], ModelParams(temperature=0.0))
        != base
    )
    assert cache_key(ENDPOINT, messages, ModelParams(temperature=0.0), epoch=2) != base
    # the endpoint's registry name does not matter: the same backend gives the same reply
    renamed = ENDPOINT.model_copy(update={"name": "alias"})
    assert cache_key(renamed, messages, ModelParams(temperature=0.0)) == base


async def test_concurrent_writers_of_the_same_keys_do_not_fail(database_url: str) -> None:
    """Two runs of the same prompts finishing together both store their replies; neither fails."""
    response_cache, engine = await make_cache(database_url)
    try:
        entries = {f"{i:064x}": result(f"a{i}") for i in range(40)}
        overlapping = [dict(list(entries.items())[start : start + 20]) for start in (0, 10, 20)]
        await asyncio.gather(
            *(response_cache.put_many(part) for part in [entries, *overlapping, entries])
        )
        stored = await response_cache.get_many(entries)
        assert {key: hit.text for key, hit in stored.items()} == {
            key: value.text for key, value in entries.items()
        }
        # an existing key keeps its first reply
        await response_cache.put_many({next(iter(entries)): result("changed")})
        first = await response_cache.get_many([next(iter(entries))])
        assert first[next(iter(entries))].text == "a0"
    finally:
        await engine.dispose()
