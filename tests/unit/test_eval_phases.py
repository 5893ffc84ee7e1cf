"""The benchmark job's phases on their own: the scoring pass, aggregation and the error threshold.

A store double stands in for the database (insert-or-ignore, read back in the table's order);
the scorer is the real one (GSM8K needs no math-verify pool). The whole job, with the real
Redis, database, worker and simulator, is ``tests/integration/test_eval_benchmark_job.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from eval_service.aggregation import RunFacts, aggregate_run
from eval_service.catalog import load_catalog
from eval_service.item_store import ItemStore
from eval_service.items import EvalItem
from eval_service.outcome import check_error_threshold, summary_of
from eval_service.phase_clock import PhaseClock
from eval_service.plan import Plan, TaskPlan
from eval_service.results import output_paths
from eval_service.scorers import Scorer
from eval_service.scoring_pass import KEY_SEP, ScoringPass, item_lookup, remaining_requests
from tutorlab.clients import ChatResult
from tutorlab.contracts.chat import Usage
from tutorlab.contracts.endpoints import ModelParams
from tutorlab.fanout import FanoutOutcome, FanoutStats
from tutorlab.jobs.runtime import JobFailed

RUN = "bench_run"


def plan_of(n: int) -> Plan:
    spec = load_catalog().tasks["gsm8k"]
    items = [EvalItem("gsm8k", f"g{i}", f"What is {i} + {i}?", str(2 * i)) for i in range(n)]
    return Plan(
        suite=None,
        tasks=[TaskPlan("gsm8k", spec, items)],
        limit=None,
        seed=0,
        params=ModelParams(max_tokens=64),
        prompt_versions={"math_boxed": "math-boxed/1"},
    )


class Store:
    """ItemStore's insert-or-ignore and read-back, in memory."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], dict[str, Any]] = {}

    async def insert_many(self, rows: list[dict[str, Any]]) -> int:
        new = [r for r in rows if (r["run_id"], r["task"], r["item_id"]) not in self.rows]
        for row in new:
            self.rows[(row["run_id"], row["task"], row["item_id"])] = row
        return len(new)

    async def all(self, run_id: str) -> list[SimpleNamespace]:
        return [
            SimpleNamespace(**row) for key, row in sorted(self.rows.items()) if key[0] == run_id
        ]


def outcome(index: int, answer: int | None) -> FanoutOutcome:
    """Item ``index``'s reply (``answer``; None: a failed request)."""
    key = f"gsm8k{KEY_SEP}g{index}"
    if answer is None:
        return FanoutOutcome(key, None, error="HTTP 500: boom")
    result = ChatResult(f"So \\boxed{{{answer}}}.", None, "stop", Usage(), 5.0, 1, "m")
    return FanoutOutcome(key, result, cache_key=f"k{index}")


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int, dict[str, Any]]] = []

    async def __call__(self, done: int, total: int, partial: dict[str, Any]) -> None:
        self.calls.append((done, total, partial))


def scoring_pass(plan: Plan, store: Store, progress: Progress) -> ScoringPass:
    return ScoringPass(
        run_id=RUN,
        plan=plan,
        lookup=item_lookup(plan),
        store=cast(ItemStore, store),
        scorer=Scorer(None),
        progress=progress,
    )


def test_remaining_requests_skip_stored_items_and_carry_the_tutor_mode() -> None:
    plan = plan_of(4)
    lookup = item_lookup(plan)
    direct = remaining_requests(plan, lookup, {("gsm8k", "g1")}, via_tutor_api=False)
    assert [r.id.split("\x1f")[1] for r in direct] == ["g0", "g2", "g3"]
    assert direct[0].params is plan.params
    assert direct[0].messages[-1]["role"] == "user" and "0 + 0" in direct[0].messages[-1]["content"]
    via_tutor = remaining_requests(plan, lookup, set(), via_tutor_api=True)
    assert via_tutor[0].params is not None
    assert (via_tutor[0].params.model_extra or {})["mode"] == "solve"


async def test_a_pass_that_stored_every_row_itself_aggregates_from_memory(tmp_path: Path) -> None:
    plan, store, progress = plan_of(3), Store(), Progress()
    scoring = scoring_pass(plan, store, progress)
    await scoring.on_batch([outcome(2, 4), outcome(0, 0)])
    await scoring.on_batch([outcome(1, 7)])  # wrong: 1 + 1 is 2
    rows = scoring.complete_rows()  # the last batch may still be being stored
    assert rows is not None and [r.item_id for r in rows] == ["g0", "g1", "g2"]
    assert await scoring.settle() is True
    assert len(store.rows) == 3
    assert [(done, total) for done, total, _ in progress.calls] == [(2, 3), (3, 3)]
    assert progress.calls[-1][2]["metrics"]["gsm8k"]["accuracy"]["mean"] == pytest.approx(2 / 3)

    paths = output_paths(tmp_path, "memory", "run1")
    facts = RunFacts(RUN, {"name": "m"}, {"model": "m"}, 1000.0, FanoutStats(requested=3))
    clock = PhaseClock()
    results = await aggregate_run(facts, plan, scoring, cast(ItemStore, store), paths, clock)
    assert results["counts"] == {"planned": 3, "items": 3, "scored": 3, "errors": 0, "cached": 0}
    assert results["metrics"]["gsm8k"]["accuracy"]["mean"] == pytest.approx(2 / 3)
    assert set(results["timing"]["phases"]) == {"aggregate_s"}
    assert json.loads(paths["results"].read_text()) == results
    assert len(paths["items"].read_text().splitlines()) == 3


async def test_rows_another_attempt_stored_first_are_read_back_from_the_table(
    tmp_path: Path,
) -> None:
    plan, store, progress = plan_of(3), Store(), Progress()
    scoring = scoring_pass(plan, store, progress)
    # another attempt stored g1 (with its own reply) before this one got to it
    earlier = scoring_pass(plan, store, Progress())
    await earlier.on_batch([outcome(1, 2)])
    await earlier.settle()
    await scoring.on_batch([outcome(0, 0), outcome(1, 9)])
    await scoring.on_batch([outcome(2, None)])
    assert await scoring.settle() is False
    assert scoring.complete_rows() is None
    assert scoring.completed == 3 and progress.calls[-1][:2] == (3, 3)

    paths = output_paths(tmp_path, "table", "run1")
    facts = RunFacts(RUN, {"name": "m"}, {"model": "m"}, 1000.0, FanoutStats(requested=3))
    results = await aggregate_run(facts, plan, scoring, cast(ItemStore, store), paths, PhaseClock())
    # the stored reply for g1 is the earlier attempt's (right), never this one's (wrong)
    assert results["counts"]["errors"] == 1 and results["counts"]["scored"] == 2
    assert results["metrics"]["gsm8k"]["accuracy"]["mean"] == 1.0
    assert results["errors_by_cause"] == {"HTTP 500: boom": 1}


def test_the_error_threshold_fails_the_job_with_its_summary(tmp_path: Path) -> None:
    paths = output_paths(tmp_path, "run", "run1")
    results = {
        "metrics": {},
        "headline": {},
        "counts": {"items": 10, "errors": 2},
        "error_rate": 0.2,
        "errors_by_cause": {"HTTP 500: boom": 2},
    }
    summary = summary_of(results, paths)
    check_error_threshold(results, 0.2, paths, summary)  # at the threshold: fine
    with pytest.raises(JobFailed) as failed:
        check_error_threshold(results, 0.1, paths, summary)
    assert failed.value.result is summary
    assert failed.value.message == (
        f"2 of 10 items failed (20.0% > threshold 10%); results written to {paths['results']}; "
        "causes: {'HTTP 500: boom': 2}"
    )
