"""One run's request queue for the simulated backend: submission order, latencies, an event log.

Tinker executes the requests of one training run in the order they were submitted, each taking
the server's time, while the client is free to queue more: that is what lets a loop submit step
*k*'s optimizer step before it waits for step *k*'s forward-backward. This queue does the same:
``submit`` returns at once with a :class:`PendingResult`; each request starts when the one before
it has finished, then takes ``max(latency, compute)`` (the numpy work runs in a worker thread
while the latency elapses). Every submit, start, done and first await is recorded as a
:class:`RunEvent`, so tests can assert the pipelining order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from .protocol import BackendError

T = TypeVar("T")

EventKind = Literal["submit", "start", "done", "await"]


@dataclass(frozen=True)
class RunEvent:
    """One moment in a request's life. ``step`` is the number of optimizer steps submitted before
    the request (so step *k*'s forward-backward and optimizer step share ``step == k``); ``seq``
    is the request's position in its run's queue; ``time`` is ``time.monotonic()``."""

    run_id: str
    op: str
    event: EventKind
    step: int
    seq: int
    time: float


class PendingResult(Generic[T]):
    """What ``submit_*`` returns: awaitable (any number of times) for the request's result.

    Awaiting is shielded: cancelling the coroutine that awaits does not cancel the request, which
    keeps running in its queue as it would on the server.
    """

    def __init__(self, task: asyncio.Task[T], on_first_await: Callable[[], None]) -> None:
        self._task = task
        self._on_first_await: Callable[[], None] | None = on_first_await

    def __await__(self) -> Generator[Any, None, T]:
        if self._on_first_await is not None:
            self._on_first_await()
            self._on_first_await = None
        return asyncio.shield(self._task).__await__()

    def done(self) -> bool:
        return self._task.done()


class RequestQueue:
    """The ordered request queue of one simulated run."""

    def __init__(self, run_id: str, log: list[RunEvent]) -> None:
        self.run_id = run_id
        self._log = log
        self._tail: asyncio.Task[Any] | None = None
        self._failure: BaseException | None = None
        self._seq = 0
        self._closed = False

    def record(self, op: str, event: EventKind, step: int, seq: int) -> None:
        self._log.append(RunEvent(self.run_id, op, event, step, seq, time.monotonic()))

    def submit(
        self, op: str, step: int, compute: Callable[[], T], latency_s: float
    ) -> PendingResult[T]:
        """Queue ``compute`` (run in a worker thread) behind every request submitted before."""
        if self._closed:
            raise BackendError(f"run {self.run_id} is closed")
        seq = self._seq
        self._seq += 1
        self.record(op, "submit", step, seq)
        previous = self._tail

        async def execute() -> T:
            if previous is not None:
                await asyncio.wait([previous])
            if self._failure is not None:
                raise BackendError(
                    f"run {self.run_id}: {op} refused, an earlier request failed"
                    f" ({self._failure}); resume from the last checkpoint"
                )
            self.record(op, "start", step, seq)
            try:
                result, _ = await asyncio.gather(
                    asyncio.to_thread(compute), asyncio.sleep(latency_s)
                )
            except BackendError as exc:
                self._failure = exc
                raise
            except Exception as exc:
                self._failure = exc
                raise BackendError(f"run {self.run_id}: {op} failed: {exc}") from exc
            self.record(op, "done", step, seq)
            return result

        task = asyncio.get_running_loop().create_task(execute(), name=f"{self.run_id}:{op}:{seq}")
        self._tail = task
        return PendingResult(task, lambda: self.record(op, "await", step, seq))

    async def drain(self) -> None:
        """Wait for every queued request to finish, then refuse new ones."""
        self._closed = True
        if self._tail is not None:
            await asyncio.wait([self._tail])
