"""The ``benchmark`` job: fan items out to the target, score each, persist as they complete.

Resumable: items already stored for the run are skipped, so a job re-run after a crash (arq
retry, worker restart, takeover of a stale job) finishes the rest and scores nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
from tutorlab.cache import ResponseCache
from tutorlab.clients import RetryPolicy
from tutorlab.fanout import FanoutOutcome, FanoutRequest, FanoutStats, fan_out
from tutorlab.jobs.models import JobStatus, aware
from tutorlab.jobs.runtime import JobContext

from eval_service.comparison import ComparisonError, compare_and_write
from eval_service.item_store import ItemStore
from eval_service.items import ItemLoader
from eval_service.judge import judge_rows
from eval_service.plan import assemble_plan, messages_for, plan_tasks, request_params
from eval_service.results import (
    ItemLike,
    LiveCounts,
    build_results,
    items_jsonl,
    output_paths,
    reused_results,
    write_files,
)
from eval_service.reuse import find_reusable, reuse_key, stage_reused_items
from eval_service.schemas import BenchmarkParams
from eval_service.scorers import Scorer
from eval_service.targets import Target, resolve_target

log = logging.getLogger("eval_service.runner")

KEY_SEP = "\x1f"


class BenchmarkFailed(Exception):
    pass


async def run_benchmark(ctx: JobContext) -> dict[str, Any]:
    params: BenchmarkParams = ctx.params
    res = ctx.resources
    settings = res["settings"]
    store: ItemStore = res["items"]
    # wall time counts from the first attempt's start (a resumed run is not faster than it was)
    first_start = aware(ctx.job.started_at)
    started = first_start.timestamp() if first_start is not None else time.time()
    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = round(now - mark, 4)
        mark = now

    # the datasets load (data-service or mirror) while the registry names the endpoint
    data_http: httpx.AsyncClient | None = res.get("data_http")
    loader = ItemLoader(mirror=settings.dataset_mirror, data_service=data_http)
    planning = asyncio.ensure_future(plan_tasks(params, loader))
    try:
        target = await resolve_target(
            params.target,
            params.model,
            registry=res["registry"],
            tutor_api_url=settings.tutor_api_url,
            api_key=settings.api_key_value(),
            retry=RetryPolicy(
                attempt_timeout_s=params.request_timeout_s, deadline_s=params.request_deadline_s
            ),
            concurrency=params.concurrency,
            registered=params.registered,
        )
    except BaseException:
        planning.cancel()
        with contextlib.suppress(BaseException):
            await planning
        raise
    phase("target_s")
    judge: Target | None = None
    try:
        plan = assemble_plan(params, target.endpoint, await planning)
        phase("plan_s")
        via_tutor_api = target.kind == "tutor-api"
        lookup = {}
        for task in plan.tasks:
            for item in task.items:
                lookup[f"{task.name}{KEY_SEP}{item.id}"] = (task, item)

        # only a fresh, cache-using run without a judge reuses or becomes a source
        eligible = ctx.job.attempts == 1 and not (params.no_cache or params.judge)
        reuse_as = (
            reuse_key(target.describe, target.endpoint, plan, params.epoch) if eligible else ""
        )
        # an identical earlier run: copy its scored items (every reply still cached)
        reuse = (
            await find_reusable(store, reuse_as, plan.total)
            if eligible and not params.rescore
            else None
        )
        reused_items: Path | None = None  # the earlier run's items, marked, beside ours
        writing: asyncio.Task[None] | None = None
        paths = output_paths(Path(settings.outputs_dir), params.label or target.name)
        if reuse is not None:
            # the rows are copied (and this run recorded as the key's source) in the
            # database's thread while another marks the items file: both mostly off the GIL
            staged = paths["items"].with_name(f".{ctx.job_id}.items.jsonl")
            try:
                copied, ready = await asyncio.gather(
                    store.copy_reused(
                        ctx.job_id, reuse.source, plan.total, remember=(reuse_as, paths)
                    ),
                    asyncio.to_thread(stage_reused_items, reuse.items_path, plan.total, staged),
                )
            except BaseException:
                staged.unlink(missing_ok=True)
                raise
            if not copied:
                reuse = None
                staged.unlink(missing_ok=True)
            else:
                ctx.final_progress = (plan.total, plan.total)  # recorded with the finish
                reused_items = staged if ready else None
        concurrency = target.endpoint.max_concurrency  # the job's override, if it gave one
        stats = FanoutStats(requested=plan.total, cached=plan.total)
        fresh = False
        kept: list[dict[str, Any]] = []
        if reuse is None:
            # items exist only for a job taken up again (retry, restart, takeover after a crash)
            done = await store.completed(ctx.job_id) if ctx.job.attempts > 1 else set()
            live = LiveCounts()
            if done:  # resumed: count what earlier attempts stored
                live.add_items(await store.all(ctx.job_id))
            await ctx.progress(len(done), plan.total, live.partial())
            requests = [
                FanoutRequest(
                    id=key,
                    messages=messages_for(task.spec, item, via_tutor_api),
                    params=request_params(plan, task.spec, item, via_tutor_api),
                )
                for key, (task, item) in lookup.items()
                if (task.name, item.id) not in done
            ]
            scorer: Scorer = res["scorer"]
            scorers = {t.name: t.spec.scorer for t in plan.tasks}
            cache = None if params.no_cache else ResponseCache(res["sessions"])
            if params.judge:
                judge = await resolve_target(
                    "model",
                    params.judge,
                    registry=res["registry"],
                    tutor_api_url=settings.tutor_api_url,
                )
            completed = len(done)
            # a run that started from nothing and stored every row itself aggregates from memory
            fresh = not done

            async def store_rows(rows: list[dict[str, Any]]) -> None:
                nonlocal completed, live, fresh
                inserted = await store.insert_many(rows)
                if inserted == len(rows):
                    live.add(rows)
                    completed += inserted
                else:  # another attempt stored some of these first: recount from the table
                    fresh = False
                    stored = await store.all(ctx.job_id)
                    live = LiveCounts()
                    live.add_items(stored)
                    completed = len(stored)
                await ctx.progress(completed, plan.total, live.partial())

            async def on_batch(outcomes: list[FanoutOutcome]) -> None:
                """Score a batch, then store it while the next batch is scored: one write at a
                time, in order (a write's error or the job's cancellation surfaces here)."""
                nonlocal writing
                pairs = [(lookup[o.id], o) for o in outcomes]
                rows = await scorer.rows(ctx.job_id, pairs)
                if judge is not None:
                    await judge_rows(judge.client, rows, scorers, cache=cache)
                if writing is not None:
                    await writing
                if fresh:
                    kept.extend(rows)
                writing = asyncio.create_task(store_rows(rows))

            try:
                stats = await fan_out(
                    target.client,
                    requests,
                    on_batch,
                    concurrency=concurrency,
                    cache=cache,
                    epoch=params.epoch,
                )
            except BaseException:
                if writing is not None:  # let the batch being stored finish: nothing scored is lost
                    with contextlib.suppress(Exception):
                        await writing
                raise
    finally:
        await target.client.aclose()
        if judge is not None:
            await judge.client.aclose()

    phase("requests_s")
    config = {
        "target": params.target,
        "model": params.model,
        "suite": plan.suite,
        "tasks": [t.name for t in plan.tasks],
        "limit": plan.limit,
        "seed": plan.seed,
        "params": plan.params.model_dump(exclude_none=True),
        "concurrency": concurrency,
        "no_cache": params.no_cache,
        "epoch": params.epoch,
        "error_threshold": params.error_threshold,
        "judge": params.judge,
    }

    def aggregate(items: list[ItemLike]) -> tuple[dict[str, Any], dict[str, Path]]:
        results = build_results(
            run_id=ctx.job_id,
            target=target.describe,
            config=config,
            plan=plan,
            items=items,
            started_at=started,
            finished_at=time.time(),
            fanout=stats,
        )
        phase("aggregate_s")
        results["timing"]["phases"] = phases
        write_files(paths, results, items_jsonl(items))
        return results, paths

    # the last batch may still be being stored: aggregate the rows in memory meanwhile, then
    # check that every one of them was stored by this run (else recount from the table)
    from_memory = fresh and len(kept) == plan.total
    if reuse is not None and reused_items is not None:
        results = reused_results(
            reuse.results,
            reused_from=reuse.source,
            run_id=ctx.job_id,
            target=target.describe,
            config=config,
            started_at=started,
            finished_at=time.time(),
            fanout=stats,
        )
        phase("aggregate_s")
        results["timing"]["phases"] = phases
        await asyncio.to_thread(write_files, paths, results, reused_items)
    elif from_memory:
        results, paths = aggregate(
            sorted(
                (cast(ItemLike, SimpleNamespace(**row)) for row in kept),
                key=lambda it: (it.task, it.item_id),
            )
        )
    if writing is not None:
        await writing
    if (reuse is None or reused_items is None) and not (from_memory and fresh):
        # resumed, or rows stored by another attempt, or copied rows whose earlier files
        # could not be used: from the table
        results, paths = aggregate(list(await store.all(ctx.job_id)))
    # a source for later identical runs (a reuse was recorded with its copy)
    if eligible and reuse is None and fresh and results["counts"]["errors"] == 0:
        await store.remember(reuse_as, ctx.job_id, paths)
    summary: dict[str, Any] = {
        "metrics": results["metrics"],
        "results_path": str(paths["results"]),
        "items_path": str(paths["items"]),
        "headline": results["headline"],
        "counts": results["counts"],
        "error_rate": results["error_rate"],
    }
    if params.compare_to:
        try:
            comparison = await compare_and_write(
                res["sessions"],
                store,
                baseline=params.compare_to,
                candidate=ctx.job_id,
                candidate_results=results,
                candidate_dir=paths["results"].parent,
            )
        except ComparisonError as exc:  # the run itself is fine: keep it, say why no comparison
            summary["comparison_error"] = str(exc)
        else:
            summary["comparison_path"] = comparison["path"]
            summary["comparison_id"] = comparison["id"]
    if results["error_rate"] > params.error_threshold:
        message = (
            f"{results['counts']['errors']} of {results['counts']['items']} items failed "
            f"({results['error_rate']:.1%} > threshold {params.error_threshold:.0%}); "
            f"results written to {paths['results']}; causes: {results['errors_by_cause']}"
        )
        # record the summary with the failure, so the run's results stay reachable by its id
        await ctx.store.finish(
            ctx.job_id, ctx.worker_id, JobStatus.failed, result=summary, error=message
        )
        raise BenchmarkFailed(message)
    return summary
