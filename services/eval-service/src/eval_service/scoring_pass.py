"""The fan-out phase of a benchmark run: ask the target for every item not stored yet, score
each batch of replies, and store it while the next batch is scored.

Resumable: a run taken up again (retry, restart, takeover of a stale job) asks only for what
earlier attempts did not store, and insert-or-ignore keeps any item from being stored twice.
While this attempt has stored every row of the run itself, it keeps the rows in memory, so the
results can be aggregated without reading them back (:mod:`eval_service.aggregation`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection, Mapping
from types import SimpleNamespace
from typing import Any, cast

from tutorlab.cache import ResponseCache
from tutorlab.fanout import FanoutOutcome, FanoutRequest, FanoutStats, fan_out

from eval_service.item_store import ItemStore
from eval_service.items import EvalItem
from eval_service.judge import judge_rows
from eval_service.plan import Plan, TaskPlan, messages_for, request_params
from eval_service.results import ItemLike, LiveCounts
from eval_service.scorers import Scorer
from eval_service.targets import Target

#: a job's progress report: ``JobContext.progress`` (done, total, partial result)
Progress = Callable[[int, int, dict[str, Any]], Awaitable[None]]

KEY_SEP = "\x1f"


def item_lookup(plan: Plan) -> dict[str, tuple[TaskPlan, EvalItem]]:
    """Every planned item by its fan-out request id (task and item id)."""
    return {
        f"{task.name}{KEY_SEP}{item.id}": (task, item)
        for task in plan.tasks
        for item in plan.samples(task)
    }


def remaining_requests(
    plan: Plan,
    lookup: Mapping[str, tuple[TaskPlan, EvalItem]],
    done: Collection[tuple[str, str]],
    via_tutor_api: bool,
) -> list[FanoutRequest]:
    """The requests for the items not in ``done`` (``(task, item id)`` already stored)."""
    return [
        FanoutRequest(
            id=key,
            messages=messages_for(task.spec, item, via_tutor_api),
            params=request_params(plan, task.spec, item, via_tutor_api),
        )
        for key, (task, item) in lookup.items()
        if (task.name, item.id) not in done
    ]


class ScoringPass:
    """Scores and stores the batches of one fan-out, one write at a time, in order.

    ``fresh`` says whether this attempt has stored every row of the run itself (it started
    from nothing and no insert met a row another attempt stored first); while it has, ``rows``
    holds them all.
    """

    def __init__(
        self,
        *,
        run_id: str,
        plan: Plan,
        lookup: Mapping[str, tuple[TaskPlan, EvalItem]],
        store: ItemStore,
        scorer: Scorer,
        progress: Progress,
        done: int = 0,
        live: LiveCounts | None = None,
        judge: Target | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        self.run_id = run_id
        self.total = plan.total
        self.lookup = lookup
        self.store = store
        self.scorer = scorer
        self.progress = progress
        self.judge = judge
        self.cache = cache
        self.scorers = {task.name: task.spec.scorer for task in plan.tasks}
        self.completed = done
        self.live = live or LiveCounts()
        self.fresh = done == 0
        self.rows: list[dict[str, Any]] = []
        self.stats = FanoutStats()
        self._writing: asyncio.Task[None] | None = None

    async def run(self, target: Target, requests: list[FanoutRequest], *, epoch: int) -> None:
        """Fan ``requests`` out to ``target`` (``stats`` says what happened); on failure or
        cancellation, the batch being stored is let finish (nothing scored is lost) before
        the error goes up."""
        try:
            self.stats = await fan_out(
                target.client,
                requests,
                self.on_batch,
                concurrency=target.endpoint.max_concurrency,
                cache=self.cache,
                epoch=epoch,
            )
        except BaseException:
            if self._writing is not None:
                with contextlib.suppress(Exception):
                    await self._writing
            raise

    async def on_batch(self, outcomes: list[FanoutOutcome]) -> None:
        """Score a batch, then store it while the next batch is scored (a write's error or
        the job's cancellation surfaces here, at the next batch)."""
        rows = await self.scorer.rows(self.run_id, [(self.lookup[o.id], o) for o in outcomes])
        if self.judge is not None:
            await judge_rows(self.judge.client, rows, self.scorers, cache=self.cache)
        if self._writing is not None:
            await self._writing
        if self.fresh:
            self.rows.extend(rows)
        self._writing = asyncio.create_task(self._store(rows))

    async def _store(self, rows: list[dict[str, Any]]) -> None:
        inserted = await self.store.insert_many(rows)
        if inserted == len(rows):
            self.live.add(rows)
            self.completed += inserted
        else:  # another attempt stored some of these first: recount from the table
            self.fresh = False
            stored = await self.store.all(self.run_id)
            self.live = LiveCounts()
            self.live.add_items(stored)
            self.completed = len(stored)
        await self.progress(self.completed, self.total, self.live.partial())

    def complete_rows(self) -> list[ItemLike] | None:
        """Every row of the run, from memory, in the table's order; None unless this attempt
        has stored (or is storing) each one itself."""
        if not (self.fresh and len(self.rows) == self.total):
            return None
        items = [cast(ItemLike, SimpleNamespace(**row)) for row in self.rows]
        items.sort(key=lambda it: (it.task, it.item_id))
        return items

    async def settle(self) -> bool:
        """Wait for the last batch's write; True if the run's rows are still all this
        attempt's own (else they are read back from the table)."""
        if self._writing is not None:
            await self._writing
        return self.fresh


async def score_remaining(
    *,
    run_id: str,
    attempt: int,
    plan: Plan,
    target: Target,
    store: ItemStore,
    scorer: Scorer,
    progress: Progress,
    cache: ResponseCache | None,
    epoch: int,
    judge: Target | None = None,
) -> ScoringPass:
    """Fan out the items earlier attempts did not store; score and store them as they come."""
    # items exist only for a job taken up again (retry, restart, takeover after a crash)
    done = await store.completed(run_id) if attempt > 1 else set()
    live = LiveCounts()
    if done:  # resumed: count what earlier attempts stored
        live.add_items(await store.all(run_id))
    await progress(len(done), plan.total, live.partial())
    lookup = item_lookup(plan)
    requests = remaining_requests(plan, lookup, done, target.kind == "tutor-api")
    scoring = ScoringPass(
        run_id=run_id,
        plan=plan,
        lookup=lookup,
        store=store,
        scorer=scorer,
        progress=progress,
        done=len(done),
        live=live,
        judge=judge,
        cache=cache,
    )
    await scoring.run(target, requests, epoch=epoch)
    return scoring
