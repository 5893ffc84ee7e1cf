"""One bad reply never fails a benchmark run (decision 0018), through the real job: eval-service,
an arq worker on the real Redis and SQLite, tutor-api and the simulator over ASGI, with two of
the simulator's replies replaced on their way back (a 5,000-digit number, and a reply the math
rules raise on)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.eval_support import MODEL, EvalStack, eval_stack, results_of
from tests.scoring_faults import BOOM, HUGE_NUMBER, ReplacingReplies, raising_scorer
from tests.support import run_worker

pytestmark = pytest.mark.integration

__all__ = ["raising_scorer"]  # a fixture, used by name


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
