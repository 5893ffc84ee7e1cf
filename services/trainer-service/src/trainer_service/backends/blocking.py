"""Running a blocking call off the event loop, with a deadline the call itself cannot ignore.

Why not ``asyncio.to_thread``: its executor's threads are joined when the loop shuts down and when
the interpreter exits, so a call stuck for good (the Tinker SDK retrying an unreachable server)
would hang the worker's shutdown after the timeout had already been reported. A daemon thread
per call is abandoned instead; the event loop never waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def run_blocking(fn: Callable[[], T], *, timeout_s: float, name: str) -> T:
    """``fn()`` in a daemon thread; its result or exception, or ``TimeoutError`` after
    ``timeout_s`` (the thread is then left to finish on its own)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle_result(value: T) -> None:
        if not future.done():
            future.set_result(value)

    def settle_error(exc: BaseException) -> None:
        if not future.done():
            future.set_exception(exc)

    def target() -> None:
        try:
            value = fn()
        except BaseException as exc:  # handed to the awaiting coroutine
            _call_soon(loop, settle_error, exc)
        else:
            _call_soon(loop, settle_result, value)

    threading.Thread(target=target, name=name, daemon=True).start()
    return await asyncio.wait_for(future, timeout_s)


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[[T], None], arg: T) -> None:
    # the loop may have closed while the call blocked: then nobody is waiting any more
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn, arg)
