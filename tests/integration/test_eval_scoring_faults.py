"""One bad reply never fails a benchmark run (decision 0018), through the real job: eval-service,
an arq worker on the real Redis and SQLite, tutor-api and the simulator over ASGI, with some of
the simulator's replies replaced on their way back (a 5,000-digit number, a reply the math rules
raise on, one they take seconds over)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path

import pytest

from tests.integration.eval_support import MODEL, EvalStack, eval_stack, results_of
from tests.scoring_faults import (
    BOOM,
    HUGE_NUMBER,
    SLOW,
    SLOW_S,
    ReplacingReplies,
    raising_scorer,
    slow_scorer,
)
from tests.support import run_worker

pytestmark = pytest.mark.integration

__all__ = ["raising_scorer", "slow_scorer"]  # fixtures, used by name


@pytest.fixture
async def stack(redis_url: str, dataset_mirror: Path, tmp_path: Path) -> AsyncIterator[EvalStack]:
    async with eval_stack(redis_url, dataset_mirror, tmp_path) as built:
        yield built


async def test_a_reply_that_breaks_scoring_is_that_items_error_and_the_run_completes(
    stack: EvalStack, raising_scorer: None
) -> None:
    huge = f"Adding it all up gives {HUGE_NUMBER}. #### {HUGE_NUMBER}"
    broken = f"{BOOM}. The answer is \\boxed{{12}}."
    replacing = ReplacingReplies(stack.sim_transport, [huge, broken])
    stack.sim_transport = replacing
    run_id = await stack.submit(
        {"model": MODEL, "tasks": ["gsm8k"], "limit": 12, "seed": 3, "no_cache": True}
    )
    await run_worker(stack.worker())
    run = await stack.get(run_id)

    assert run["status"] == "succeeded", run
    assert len(replacing.replaced) == 2
    results = results_of(run)
    assert results["counts"] == {"planned": 12, "items": 12, "scored": 11, "errors": 1, "cached": 0}
    cause = "scoring failed: RuntimeError: rule exploded"
    assert results["errors_by_cause"] == {cause: 1}
    items = {item["response"]: item for item in await stack.items(run_id)}
    # the reply the rules raised on: an error with its cause, the reply kept, no verdict counted
    failed = items[broken]
    assert failed["status"] == "error" and failed["error"] == cause
    assert failed["verdict"] == "scoring_failed" and failed["verdicts"]["metrics"] == {}
    # the 5,000-digit number is no readable answer: scored, and not correct
    assert items[huge]["status"] == "ok" and items[huge]["verdict"] in ("invalid", "incorrect")
    # every other item scored as usual (the simulator is always right here)
    accuracy = results["metrics"]["gsm8k"]["accuracy"]
    assert accuracy["n"] == 11 and round(accuracy["mean"] * 11) == 10
    lines = Path(run["result"]["items_path"]).read_text().splitlines()
    assert sorted(json.loads(line)["status"] for line in lines) == ["error"] + ["ok"] * 11


async def test_the_job_keeps_its_heartbeat_while_a_slow_reply_is_scored(
    stack: EvalStack, slow_scorer: None, heartbeats: list[float]
) -> None:
    beats = heartbeats
    stack.sim_transport = ReplacingReplies(stack.sim_transport, [f"{SLOW}. \\boxed{{1}}"])
    run_id = await stack.submit(
        {"model": MODEL, "tasks": ["gsm8k"], "limit": 6, "seed": 5, "no_cache": True}
    )
    started = time.monotonic()
    await run_worker(stack.worker())
    run = await stack.get(run_id)
    assert run["status"] == "succeeded" and run["attempts"] == 1, run
    assert time.monotonic() - started > SLOW_S  # the slow reply was scored in this run
    gaps = [later - earlier for earlier, later in pairwise(beats)]
    # every 0.2 s, with room for a loaded machine; on the event loop the scoring stopped them
    # for its 3 s, past the 1 s after which the job counts as its worker's death
    assert len(beats) >= SLOW_S / stack.settings.job_heartbeat_s / 2, beats
    assert max(gaps) < stack.settings.job_stale_after_s, f"heartbeats {max(gaps):.2f}s apart"
