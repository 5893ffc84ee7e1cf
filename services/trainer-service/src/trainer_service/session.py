"""What every training loop shares: the step bookkeeping around the backend calls.

A loop asks the session before each step whether the budget allows it, and tells it when a step
is done. The session records the step's metrics (with tokens and cost) in the database and the
experiment folder, reports progress, saves a checkpoint every ``save_every`` steps, and stops the
run cleanly when it was cancelled: after the step in flight, with a checkpoint saved first.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from tutorlab.jobs.runtime import JobCancelled, JobContext

from trainer_service.backends.protocol import TrainingRun
from trainer_service.experiment import Experiment
from trainer_service.run_store import RunStore

log = logging.getLogger("trainer_service.session")


class Pricing(Protocol):
    def cost_usd(self, tokens_prefill: int, tokens_sampled: int, tokens_trained: int) -> float: ...


@dataclass
class Totals:
    """Token and cost totals of a run so far (carried over a resume through the checkpoint)."""

    tokens_prefill: int = 0
    tokens_sampled: int = 0
    tokens_trained: int = 0
    cost_usd: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cost_usd": round(self.cost_usd, 6)}

    @classmethod
    def of(cls, data: dict[str, Any]) -> Totals:
        return cls(
            tokens_prefill=int(data.get("tokens_prefill", 0)),
            tokens_sampled=int(data.get("tokens_sampled", 0)),
            tokens_trained=int(data.get("tokens_trained", 0)),
            cost_usd=float(data.get("cost_usd", 0.0)),
        )


@dataclass(frozen=True)
class StepTokens:
    prefill: int = 0
    sampled: int = 0
    trained: int = 0


class BudgetExhausted(Exception):
    """The next step would take the run past ``max_cost_usd``."""


@dataclass
class TrainingSession:
    ctx: JobContext
    run: TrainingRun
    store: RunStore
    experiment: Experiment
    pricing: Pricing
    total_steps: int
    save_every: int
    #: periodic checkpoints expire after this long (None: kept)
    checkpoint_ttl_s: int | None
    max_cost_usd: float | None
    #: optimizer steps done before this attempt (a resumed run starts past them)
    start_step: int = 0
    totals: Totals = field(default_factory=Totals)
    #: called after each recorded step with (step, metrics): the live bar's partial result
    on_progress: Callable[[int, dict[str, Any]], Awaitable[None]] | None = None
    last_saved_step: int = -1
    last_save_final: bool = False
    stopped_reason: str | None = None
    #: optimizer steps done so far (this attempt's and the ones before it)
    last_step: int = 0

    def __post_init__(self) -> None:
        self.last_step = self.start_step

    @property
    def training_id(self) -> str:
        return self.ctx.job_id

    def step_cost(self, tokens: StepTokens) -> float:
        return self.pricing.cost_usd(tokens.prefill, tokens.sampled, tokens.trained)

    def charge(self, tokens: StepTokens) -> None:
        """Tokens spent outside a training step (evaluation passes, monitor samples): they
        count in the run's cost and budget like any other."""
        self.totals.tokens_prefill += tokens.prefill
        self.totals.tokens_sampled += tokens.sampled
        self.totals.tokens_trained += tokens.trained
        self.totals.cost_usd += self.step_cost(tokens)

    def affordable(self, tokens: StepTokens) -> bool:
        """Whether spending ``tokens`` now keeps the run within ``max_cost_usd``."""
        if self.max_cost_usd is None:
            return True
        return self.totals.cost_usd + self.step_cost(tokens) <= self.max_cost_usd

    async def ensure_budget(
        self, step: int, estimate: StepTokens, in_flight: StepTokens | None = None
    ) -> None:
        """Before a step is submitted: stop (with a checkpoint) if it would exceed the budget.
        ``in_flight``: a queued step whose cost is not counted yet (pipelining)."""
        if self.max_cost_usd is None:
            return
        cost = self.step_cost(estimate) + (self.step_cost(in_flight) if in_flight else 0.0)
        if self.totals.cost_usd + cost > self.max_cost_usd:
            self.stopped_reason = (
                f"max_cost_usd: step {step + 1} would cost ${cost:.4f}, taking the run to "
                f"${self.totals.cost_usd + cost:.4f}, over the ${self.max_cost_usd:.2f} budget; "
                f"stopped after step {step} with a checkpoint"
            )
            raise BudgetExhausted(self.stopped_reason)

    async def step_done(
        self, step: int, metrics: dict[str, Any], tokens: StepTokens, *, in_flight: bool = False
    ) -> None:
        """Step ``step`` (1-based: optimizer steps done) is finished: record, report, checkpoint
        when due, and stop here if the run was cancelled. ``in_flight``: a later step is already
        queued (pipelining), so checkpoints and the cancel stop wait for :meth:`at_boundary`."""
        cost = self.step_cost(tokens)
        self.last_step = step
        self.totals.tokens_prefill += tokens.prefill
        self.totals.tokens_sampled += tokens.sampled
        self.totals.tokens_trained += tokens.trained
        self.totals.cost_usd += cost
        row = {
            **metrics,
            "tokens/prefill": tokens.prefill,
            "tokens/sampled": tokens.sampled,
            "tokens/trained": tokens.trained,
            "cost/step_usd": round(cost, 6),
            "cost/cumulative_usd": round(self.totals.cost_usd, 6),
        }
        await self.store.record_metrics(self.training_id, step, row)
        self.experiment.append_metrics(step, row)
        if self.on_progress is not None:
            await self.on_progress(step, row)
        if not in_flight:
            await self.at_boundary(step)

    async def cancel_requested(self) -> bool:
        return await self.ctx.store.is_cancel_requested(self.training_id)

    async def at_boundary(self, step: int) -> None:
        """Nothing is queued past ``step``: save a checkpoint when one is due, and stop (after
        saving one) if the run was cancelled."""
        if self.save_every and step % self.save_every == 0 and step < self.total_steps:
            await self.save_state(step)
        try:
            await self.ctx.check_cancelled()
        except JobCancelled:
            if self.last_saved_step != step:
                await self.save_state(step)
            self.stopped_reason = f"cancelled after step {step}"
            raise

    async def save_state(self, step: int, *, final: bool = False) -> str:
        name = f"step-{step:06d}" if not final else "final-state"
        ttl = None if final else self.checkpoint_ttl_s
        path = await self.run.save_state(name, ttl_s=ttl)
        await self.store.record_checkpoint(
            self.training_id,
            name=name,
            kind="state",
            path=path,
            step=step,
            totals=self.totals.as_dict(),
            ttl_s=ttl,
            final=final,
        )
        self.experiment.append_checkpoint(
            {
                "name": name,
                "kind": "state",
                "path": path,
                "step": step,
                "totals": self.totals.as_dict(),
            }
        )
        self.last_saved_step = step
        self.last_save_final = final
        log.info("training %s: saved state %s at step %d", self.training_id, path, step)
        return path

    async def save_sampler(self, step: int) -> str:
        """The final sampler weights (kept: no TTL), the path that gets registered."""
        name = "final"
        path = await self.run.save_sampler_weights(name, ttl_s=None)
        await self.store.record_checkpoint(
            self.training_id,
            name="final-sampler",
            kind="sampler",
            path=path,
            step=step,
            totals=self.totals.as_dict(),
            ttl_s=None,
            final=True,
        )
        self.experiment.append_checkpoint(
            {"name": "final-sampler", "kind": "sampler", "path": path, "step": step}
        )
        return path
