"""The aggregate phase of a benchmark run: its results and items files, one way.

Whatever the items' source, the results come from :func:`run_results` and go to disk through
:func:`aggregate`: from the run's items (held in memory when this attempt stored every one
itself, else read back from the table), or, for a run that reused an identical earlier run,
from that run's results.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutorlab.fanout import FanoutStats

from eval_service.item_store import ItemStore
from eval_service.phase_clock import PhaseClock
from eval_service.plan import Plan
from eval_service.results import ItemLike, build_results, items_jsonl, reused_results, write_files
from eval_service.reuse import Reused
from eval_service.schemas import BenchmarkParams
from eval_service.scoring_pass import ScoringPass
from eval_service.targets import Target


def run_config(params: BenchmarkParams, plan: Plan, target: Target) -> dict[str, Any]:
    """What the run was asked to do, as its results record it (``config`` and its hash)."""
    return {
        "target": params.target,
        "model": params.model,
        "suite": plan.suite,
        "tasks": [t.name for t in plan.tasks],
        "limit": plan.limit,
        "seed": plan.seed,
        "params": plan.params.model_dump(exclude_none=True),
        "concurrency": target.endpoint.max_concurrency,  # the job's override, if it gave one
        "no_cache": params.no_cache,
        "cache_epoch": params.cache_epoch,
        "epochs": plan.epochs,
        "reducers": plan.reducers,
        "error_threshold": params.error_threshold,
        "judge": params.judge,
    }


@dataclass
class RunFacts:
    """What the results say about the run itself, whatever its items scored."""

    run_id: str
    target: dict[str, Any]
    config: dict[str, Any]
    #: the first attempt's start (a resumed run is not faster than it was)
    started_at: float
    fanout: FanoutStats

    def fields(self) -> dict[str, Any]:
        """The run's fields, finished now."""
        return {
            "run_id": self.run_id,
            "target": self.target,
            "config": self.config,
            "started_at": self.started_at,
            "finished_at": time.time(),
            "fanout": self.fanout,
        }


def run_results(
    facts: RunFacts, plan: Plan, items: Sequence[ItemLike] | Reused
) -> tuple[dict[str, Any], bytes | Path]:
    """The run's results and its items file (bytes, or a staged file to rename into place)."""
    if isinstance(items, Reused):
        assert items.items_file is not None
        results = reused_results(items.results, reused_from=items.source, **facts.fields())
        return results, items.items_file
    return build_results(plan=plan, items=items, **facts.fields()), items_jsonl(items)


async def aggregate(
    facts: RunFacts,
    plan: Plan,
    items: Sequence[ItemLike] | Reused,
    paths: dict[str, Path],
    clock: PhaseClock,
) -> dict[str, Any]:
    """Aggregate ``items``, record the phases' timing, write both files (in a thread)."""
    results, items_file = run_results(facts, plan, items)
    clock.mark("aggregate_s")
    results["timing"]["phases"] = clock.phases
    await asyncio.to_thread(write_files, paths, results, items_file)
    return results


async def aggregate_run(
    facts: RunFacts,
    plan: Plan,
    scored: ScoringPass | Reused,
    store: ItemStore,
    paths: dict[str, Path],
    clock: PhaseClock,
) -> dict[str, Any]:
    """The run's results from the right items: the earlier run's files for a reuse; the rows
    in memory when this attempt stored each one itself (aggregated while the last batch is
    still being written, then checked); else every row read back from the table."""
    if isinstance(scored, Reused):
        if scored.items_file is not None:
            return await aggregate(facts, plan, scored, paths, clock)
        return await aggregate(facts, plan, await store.all(facts.run_id), paths, clock)
    rows = scored.complete_rows()
    results = None if rows is None else await aggregate(facts, plan, rows, paths, clock)
    if not await scored.settle() or results is None:
        # resumed, or rows stored by another attempt first: from the table
        results = await aggregate(facts, plan, await store.all(facts.run_id), paths, clock)
    return results
