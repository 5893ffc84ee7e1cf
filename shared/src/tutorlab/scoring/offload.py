"""Scoring that neither stalls the event loop that asks for it nor fails a batch for one reply.

Rule scoring is CPU work (regular expressions over the whole reply): a degenerate reply of a
megabyte takes from a fraction of a second to many seconds. Run on a service's event loop it
holds up every request, ``/healthz`` and a job's heartbeats meanwhile; one 20 MB response
stalled every eval-service request for ~5 s. So scoring runs on the *scoring thread*: one daemon
thread per process with its own event loop, started on first use. :func:`on_scoring_thread`
hands it a coroutine and awaits the outcome from the caller's loop (cancelling the wait cancels
the coroutine there). The caller's loop keeps running: CPython hands the GIL over every switch
interval (5 ms), except inside one long C call such as a single regex search, which the scorers'
scan caps keep short. The cost is one thread hop per batch (tens of microseconds).

:func:`score_batch` is :func:`tutorlab.scoring.tasks.score_task` run there, with each reply
isolated: when a batch raises, its replies are scored one by one, and a reply whose scoring
raises gets a :data:`SCORING_FAILED` verdict whose ``error`` names the cause (decision 0018):
the caller records that item as an error, never as a wrong answer, and scores the rest.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from tutorlab.scoring.mathverify import MathVerifier
from tutorlab.scoring.tasks import TASK_SCORERS, Scored, ScoreInput, score_task
from tutorlab.scoring.versions import RULES_VERSION, SCORER_VERSION

__all__ = [
    "SCORING_FAILED",
    "failed_verdict",
    "failure_cause",
    "isolated",
    "on_scoring_thread",
    "score_batch",
]

_log = logging.getLogger(__name__)

T = TypeVar("T")
Item = TypeVar("Item")

#: the headline verdict of a reply whose scoring raised
SCORING_FAILED = "scoring_failed"
_MAX_CAUSE = 300

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _forget_loop() -> None:
    """In a forked child the scoring thread does not exist: start a new one when needed."""
    global _loop
    _loop = None


os.register_at_fork(after_in_child=_forget_loop)


def _scoring_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="scoring", daemon=True).start()
            _loop = loop
        return _loop


async def on_scoring_thread(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the scoring thread's event loop; its result or exception comes back."""
    future = asyncio.run_coroutine_threadsafe(coro, _scoring_loop())
    return await asyncio.wrap_future(future)


def failure_cause(exc: BaseException) -> str:
    """What a reply whose scoring raised ``exc`` records as its error (bounded)."""
    return f"scoring failed: {type(exc).__name__}: {exc}"[:_MAX_CAUSE]


def failed_verdict(exc: BaseException) -> Scored:
    """The verdicts of a reply whose scoring raised ``exc``: no metric, the cause as ``error``."""
    verdicts = {
        "metrics": {},
        "error": failure_cause(exc),
        "versions": {"scorer": SCORER_VERSION, "rules": RULES_VERSION},
    }
    return verdicts, SCORING_FAILED


async def isolated(
    score: Callable[[Sequence[Item]], Awaitable[list[T]]],
    items: Sequence[Item],
    failed: Callable[[BaseException], T],
    what: str,
) -> list[T]:
    """``score(items)``, each reply isolated: when the batch raises, its replies are scored one
    by one, and a reply whose scoring raises gets ``failed(exc)`` (logged as a ``what`` reply)
    while the others get their results; order kept."""
    try:
        return await score(items)
    except Exception as exc:
        if len(items) == 1:
            _log.warning("scoring a %s reply failed: %s", what, exc, exc_info=True)
            return [failed(exc)]
    out: list[T] = []
    for item in items:  # find the replies that fail; score the others
        out.extend(await isolated(score, [item], failed, what))
    return out


async def score_batch(
    scorer: str, items: Sequence[ScoreInput], verifier: MathVerifier | None
) -> list[Scored]:
    """``score_task`` on the scoring thread; a reply whose scoring raises gets
    :func:`failed_verdict` and the others their verdicts (order kept). An unknown ``scorer``
    is the caller's error (ValueError)."""
    if scorer not in TASK_SCORERS:
        raise ValueError(f"unknown scorer {scorer!r}; known: {', '.join(TASK_SCORERS)}")
    if not items:
        return []

    async def score(batch: Sequence[ScoreInput]) -> list[Scored]:
        return await score_task(scorer, batch, verifier)

    return await on_scoring_thread(isolated(score, items, failed_verdict, scorer))
