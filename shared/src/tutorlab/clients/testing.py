"""Test helpers: a fake clock for RetryPolicy, and a transport that replays a script."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tutorlab.clients.retry import RetryPolicy

Step = (
    httpx.Response
    | BaseException
    | Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
)


@dataclass
class FakeTime:
    """Monotonic time that moves only through :meth:`sleep` and :meth:`advance`."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def policy(self, **overrides: Any) -> RetryPolicy:
        """A RetryPolicy on this clock, without jitter unless ``random`` is given."""
        overrides.setdefault("jitter", "random" in overrides)
        return RetryPolicy(sleep=self.sleep, clock=self.clock, **overrides)


class ScriptedTransport(httpx.AsyncBaseTransport):
    """Answers the n-th request with the n-th step (the last step repeats) and records requests.

    A step is a Response (copied each time when its content is bytes; a streamed one can be
    served only once), an exception to raise
    (e.g. ``httpx.ConnectError``), or a function of the request returning a Response (or an
    awaitable of one).
    """

    def __init__(self, *steps: Step) -> None:
        if not steps:
            raise ValueError("steps: at least one step is required")
        self.steps = steps
        self.requests: list[httpx.Request] = []
        self.closed = False

    @property
    def calls(self) -> int:
        return len(self.requests)

    def json_bodies(self) -> list[Any]:
        return [
            json.loads(request.content) if request.content else None for request in self.requests
        ]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, httpx.Response):
            try:
                content = step.content
            except httpx.ResponseNotRead:  # a streamed body can only be served once
                return step
            return httpx.Response(step.status_code, headers=step.headers, content=content)
        result = step(request)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def aclose(self) -> None:
        self.closed = True


async def byte_chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    """``data`` in pieces of ``size`` bytes, as a streamed body arrives."""
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)
