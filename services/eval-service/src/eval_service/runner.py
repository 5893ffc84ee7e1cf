"""The ``benchmark`` job: a short sequence of named phases.

1. resolve the target and plan the items (:mod:`eval_service.preparation`);
2. reuse an identical earlier run's scored items (:mod:`eval_service.reuse`), or fan the items
   out, score and store them as they complete (:mod:`eval_service.scoring_pass`);
3. aggregate them into the results files (:mod:`eval_service.aggregation`);
4. compare with a baseline, copy the run's files to its label folder as the label's newest, and
   fail the job past its error threshold (:mod:`eval_service.outcome`).

Resumable: items already stored for the run are skipped, so a job re-run after a crash (a
worker restart, a takeover of a stale job) finishes the rest and scores nothing twice.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tutorlab.cache import ResponseCache
from tutorlab.jobs.models import Job, aware
from tutorlab.jobs.runtime import JobContext

from eval_service.aggregation import RunFacts, aggregate_run, run_config
from eval_service.outcome import (
    check_error_threshold,
    compare_with_baseline,
    publish_run,
    summary_of,
)
from eval_service.phase_clock import PhaseClock
from eval_service.plan import Plan
from eval_service.preparation import resolve_and_plan
from eval_service.resources import EvalResources, eval_resources
from eval_service.results import output_paths
from eval_service.reuse import Reused, copy_earlier_run, offer_as_source, run_reuse_key
from eval_service.schemas import BenchmarkParams
from eval_service.scoring_pass import ScoringPass, score_remaining
from eval_service.targets import Target
from eval_service.tracking import track_benchmark


async def run_benchmark(ctx: JobContext) -> dict[str, Any]:
    """The job: its phases in order (see the module doc); the result is the run's summary."""
    params: BenchmarkParams = ctx.params
    deps = eval_resources(ctx)
    clock = PhaseClock()
    started = first_start(ctx.job)
    target, plan = await resolve_and_plan(params, deps.targets, deps.loader(), clock)
    outputs_dir = Path(deps.settings.outputs_dir)
    label = params.label or target.name
    paths = output_paths(outputs_dir, label, ctx.job_id)
    reuse_as = run_reuse_key(params, ctx.job.attempts, target, plan)
    try:
        scored = await reuse_or_score(ctx, deps, target, plan, reuse_as, paths)
    finally:
        await target.client.aclose()
    clock.mark("requests_s")
    config = run_config(params, plan, target)
    facts = RunFacts(ctx.job_id, target.describe, config, started, scored.stats)
    results = await aggregate_run(facts, plan, scored, deps.items, paths, clock)
    await offer_as_source(
        deps.items,
        reuse_as,
        ctx.job_id,
        stored_every_item=isinstance(scored, ScoringPass) and scored.fresh,
        results=results,
        paths=paths,
    )
    summary = summary_of(results, paths)
    if params.compare_to:
        summary |= await compare_with_baseline(
            deps.sessions,
            deps.items,
            outputs_dir=outputs_dir,
            baseline=params.compare_to,
            run_id=ctx.job_id,
            results=results,
            paths=paths,
        )
    await publish_run(paths)
    summary |= await track_benchmark(
        deps.tracking,
        label=label,
        results=results,
        summary=summary,
        error_threshold=params.error_threshold,
    )
    check_error_threshold(results, params.error_threshold, paths, summary)
    return summary


def first_start(job: Job) -> float:
    """When the run's first attempt started: wall time counts from there (a resumed run is
    not faster than it was)."""
    started = aware(job.started_at)
    return started.timestamp() if started is not None else time.time()


async def reuse_or_score(
    ctx: JobContext,
    deps: EvalResources,
    target: Target,
    plan: Plan,
    reuse_as: str | None,
    paths: dict[str, Path],
) -> Reused | ScoringPass:
    """Copy an identical earlier run's scored items (every reply still cached), or fan out
    the items no attempt stored yet and score them (with the judge, if the run has one)."""
    params: BenchmarkParams = ctx.params
    if reuse_as is not None and not params.rescore:
        reused = await copy_earlier_run(deps.items, ctx.job_id, reuse_as, plan.total, paths)
        if reused is not None:
            ctx.final_progress = (plan.total, plan.total)  # recorded with the finish
            return reused
    judge = await deps.targets.resolve("model", params.judge) if params.judge else None
    try:
        return await score_remaining(
            run_id=ctx.job_id,
            attempt=ctx.job.attempts,
            plan=plan,
            target=target,
            store=deps.items,
            scorer=deps.scorer,
            progress=ctx.progress,
            cache=None if params.no_cache else ResponseCache(deps.sessions),
            epoch=params.cache_epoch,
            judge=judge,
        )
    finally:
        if judge is not None:
            await judge.client.aclose()
