"""Scoring on the scoring thread, one failing reply isolated from its batch (decision 0018)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from tutorlab.scoring import offload
from tutorlab.scoring.offline import score_rows
from tutorlab.scoring.offload import SCORING_FAILED, on_scoring_thread, score_batch
from tutorlab.scoring.tasks import ScoreInput

from tests.scoring_faults import BOOM, raising_scorer

__all__ = ["raising_scorer"]  # a fixture, used by name


async def test_a_reply_whose_scoring_raises_is_its_own_error(raising_scorer: None) -> None:
    items = [
        ScoreInput("So \\boxed{7}.", "7"),
        ScoreInput(f"{BOOM}: \\boxed{{7}}", "7"),
        ScoreInput("The answer is 8.", "7"),
    ]
    scored = await score_batch("gsm8k", items, None)
    assert [headline for _, headline in scored] == ["correct", SCORING_FAILED, "incorrect"]
    failed = scored[1][0]
    assert failed["error"] == "scoring failed: RuntimeError: rule exploded"
    assert failed["metrics"] == {} and set(failed["versions"]) == {"scorer", "rules"}


async def test_score_rows_reports_the_failed_line_and_scores_the_others(
    raising_scorer: None,
) -> None:
    rows = [(1, {"response": "\\boxed{3}", "gold": "3"}), (2, {"response": BOOM, "gold": "3"})]
    results, problems = await score_rows("gsm8k", rows, verifier=None)
    assert problems == []
    assert [(r["line"], r["verdict"]) for r in results] == [(1, "correct"), (2, SCORING_FAILED)]
    assert results[1]["error"] == "scoring failed: RuntimeError: rule exploded"


async def test_an_unknown_scorer_is_the_callers_error() -> None:
    with pytest.raises(ValueError, match="unknown scorer 'nope'"):
        await score_batch("nope", [ScoreInput("x")], None)


async def test_scoring_runs_on_the_scoring_thread_and_its_errors_come_back() -> None:
    async def where() -> str:
        return threading.current_thread().name

    assert await on_scoring_thread(where()) == "scoring"
    assert threading.current_thread().name != "scoring"

    async def broken() -> None:
        raise KeyError("lost")

    with pytest.raises(KeyError, match="lost"):
        await on_scoring_thread(broken())


async def test_cancelling_the_wait_cancels_the_scoring() -> None:
    started, cancelled = threading.Event(), threading.Event()

    async def long() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    waiting = asyncio.create_task(on_scoring_thread(long()))
    await asyncio.to_thread(started.wait, 10)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await asyncio.to_thread(cancelled.wait, 10)


def test_a_forked_child_starts_its_own_scoring_thread() -> None:
    parents = offload._scoring_loop()
    offload._forget_loop()  # what os.register_at_fork runs in the child
    assert offload._loop is None
    assert offload._scoring_loop() is offload._loop is not parents
    parents.call_soon_threadsafe(parents.stop)
