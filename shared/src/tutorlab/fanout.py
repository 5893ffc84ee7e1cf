"""Fan requests out to one model endpoint with bounded concurrency; hand back outcomes in batches.

Used by eval (benchmarks) and data (teacher data, LLM tagging), so both get the same concurrency
limit, retries (the client's), response cache and error accounting. A request that still fails
after the client's retries is an outcome with ``error`` set: never a reply, never a wrong answer.
Completed outcomes are handed to ``on_batch`` in small batches (at most ``flush_every`` items or
``flush_interval_s`` apart) so a caller persists them as they complete without a write per item;
cache hits come first, looked up and handed over ``cached_batch`` requests at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tutorlab.cache import CacheKeys, ResponseCache
from tutorlab.clients import ChatResult, ModelClient, ModelEndpointError
from tutorlab.contracts.endpoints import ModelParams


@dataclass(slots=True)
class FanoutRequest:
    id: str
    messages: list[dict[str, str]]
    params: ModelParams | None = None


@dataclass(slots=True)
class FanoutOutcome:
    id: str
    result: ChatResult | None
    error: str | None = None
    cached: bool = False
    cache_key: str | None = None


@dataclass
class FanoutStats:
    requested: int = 0
    cached: int = 0
    succeeded: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)


OnBatch = Callable[[list[FanoutOutcome]], Awaitable[None]]


async def fan_out(
    client: ModelClient,
    requests: Sequence[FanoutRequest],
    on_batch: OnBatch,
    *,
    concurrency: int,
    cache: ResponseCache | None = None,
    epoch: int = 0,
    flush_every: int = 64,
    flush_interval_s: float = 0.25,
    cached_batch: int = 5000,
    should_stop: Callable[[], bool] | None = None,
) -> FanoutStats:
    """Run every request (cache hits first, without a call); return what happened."""
    stats = FanoutStats(requested=len(requests))
    keys: dict[str, str] = {}
    pending: list[FanoutRequest] = list(requests)
    if cache is not None:
        key_of = CacheKeys(client.endpoint, epoch)
        for request in requests:
            keys[request.id] = key_of(request.messages, request.params)
        # looked up and handed over a part at a time, so a caller that stores a batch in the
        # background overlaps that with the next part's lookup and scoring
        pending = []
        for start in range(0, len(requests), cached_batch):
            part = requests[start : start + cached_batch]
            hits = await cache.get_many(keys[r.id] for r in part)
            cached = [
                FanoutOutcome(r.id, hits[keys[r.id]], cached=True, cache_key=keys[r.id])
                for r in part
                if keys[r.id] in hits
            ]
            pending.extend(r for r in part if keys[r.id] not in hits)
            if cached:
                stats.cached += len(cached)
                await on_batch(cached)

    buffer: list[FanoutOutcome] = []
    wake = asyncio.Event()
    sending_done = asyncio.Event()

    async def flush() -> None:
        nonlocal buffer
        batch, buffer = buffer, []
        if cache is not None:
            await cache.put_many(
                {o.cache_key: o.result for o in batch if o.result is not None and o.cache_key}
            )
        await on_batch(batch)

    async def flusher() -> None:
        """Persist outcomes in batches; senders never wait for scoring or the database."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), flush_interval_s)
            wake.clear()
            if buffer:
                await flush()
            if sending_done.is_set() and not buffer:
                return

    iterator = iter(pending)

    async def sender() -> None:
        for request in iterator:
            if should_stop is not None and should_stop():
                return
            try:
                result = await client.chat(request.messages, request.params)
                outcome = FanoutOutcome(request.id, result, cache_key=keys.get(request.id))
                stats.succeeded += 1
            except ModelEndpointError as exc:
                outcome = FanoutOutcome(request.id, None, error=exc.cause)
                stats.failed += 1
                label = f"status {exc.status_code}" if exc.status_code else "transport"
                stats.errors[label] = stats.errors.get(label, 0) + 1
            buffer.append(outcome)
            if len(buffer) >= flush_every:
                wake.set()

    flushing = asyncio.create_task(flusher())
    senders = [asyncio.create_task(sender()) for _ in range(max(1, min(concurrency, len(pending))))]
    sending: asyncio.Future[Any] = asyncio.gather(*senders)
    watched: list[asyncio.Future[Any]] = [flushing, sending]
    try:
        done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        if flushing in done:
            flushing.result()  # the flusher only ends early by raising (e.g. the job was cancelled)
        await sending
        sending_done.set()
        wake.set()
        await flushing
    finally:
        # stop every task (a sender failing leaves its gather done, not its siblings cancelled)
        # and wait for them: none outlives the call to keep sending after it has raised
        sending.cancel()
        for task in (*senders, flushing):
            task.cancel()
        await asyncio.gather(sending, *senders, flushing, return_exceptions=True)
    return stats


def as_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
