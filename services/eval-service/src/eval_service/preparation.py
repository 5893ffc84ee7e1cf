"""The first phases of a benchmark run: resolve its target and plan its items, together."""

from __future__ import annotations

import asyncio
import contextlib

from tutorlab.clients import RetryPolicy

from eval_service.items import ItemLoader
from eval_service.phase_clock import PhaseClock
from eval_service.plan import Plan, assemble_plan, plan_tasks
from eval_service.schemas import BenchmarkParams
from eval_service.targets import Target, TargetResolver


async def resolve_and_plan(
    params: BenchmarkParams, targets: TargetResolver, loader: ItemLoader, clock: PhaseClock
) -> tuple[Target, Plan]:
    """The run's target (its client open: the caller closes it) and its plan.

    The datasets load (data-service or mirror) while the registry names the endpoint, whose
    registered params the plan then takes; a failure of either leaves nothing open.
    """
    planning = asyncio.ensure_future(plan_tasks(params, loader))
    try:
        target = await targets.resolve(
            params.target,
            params.model,
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
    clock.mark("target_s")
    try:
        plan = assemble_plan(params, target.endpoint, await planning)
    except BaseException:
        await target.client.aclose()
        raise
    clock.mark("plan_s")
    return target, plan
