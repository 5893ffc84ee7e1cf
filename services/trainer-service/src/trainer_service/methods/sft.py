"""Supervised fine-tuning: cross-entropy on the assistant tokens, pipelined.

Step *k*'s forward-backward and optimizer step are both queued before the loop waits for step
*k − 1*'s results, so the backend always has the next step's work while the trainer records the
last one: the optimizer step's latency hides behind the next forward-backward. The pipeline is
drained only where the weights of one exact step matter: an evaluation or a checkpoint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tinker import types

from trainer_service.methods.batches import batch_plan, loss_sum, supervised_batch
from trainer_service.schedule import learning_rate_at
from trainer_service.session import BudgetExhausted, StepTokens, TrainingSession

Rendered = tuple[Sequence[int], Sequence[float]]
#: an evaluation at a step boundary: step -> metrics (eval/…)
Evaluate = Callable[[int], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class SftSettings:
    batch_size: int
    num_epochs: int
    learning_rate: float
    lr_schedule: str
    warmup_steps: int
    eval_every: int
    seed: int
    max_steps: int | None = None
    #: AdamParams beyond the learning rate
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8


def sft_steps(n_examples: int, s: SftSettings) -> list[list[int]]:
    return batch_plan(n_examples, s.batch_size, s.num_epochs, s.seed, s.max_steps)


async def eval_nll(
    session: TrainingSession, rendered: Sequence[Rendered], batch_size: int
) -> float | None:
    """Mean NLL per target token of the eval set under the current weights (no gradients)."""
    if not rendered:
        return None
    total_weight = float(sum(sum(w[1:]) for _, w in rendered))
    if total_weight <= 0:
        return None
    nll = 0.0
    for start in range(0, len(rendered), batch_size):
        chunk = rendered[start : start + batch_size]
        datums, _, chunk_weight = supervised_batch(chunk)
        output = await session.run.forward(datums, "cross_entropy")
        session.charge(StepTokens(prefill=sum(d.model_input.length for d in datums)))
        value = loss_sum(output)
        if value is None:
            return None
        nll += value * chunk_weight / total_weight
    return nll


@dataclass
class _InFlight:
    step: int
    forward_backward: Awaitable[types.ForwardBackwardOutput]
    optim: Awaitable[types.OptimStepResponse]
    tokens: StepTokens
    lr: float
    examples: int
    batch: str


def batch_digest(indexes: Sequence[int]) -> str:
    """A short fingerprint of the examples a step trains on (the data cursor, in the metrics)."""
    return hashlib.sha1(",".join(map(str, indexes)).encode()).hexdigest()[:12]


async def run_sft(
    session: TrainingSession,
    train: Sequence[Rendered],
    s: SftSettings,
    *,
    evaluate: Evaluate | None = None,
) -> int:
    """Train from ``session.start_step`` to the end of the plan; returns the steps done."""
    plan = sft_steps(len(train), s)
    total = len(plan)
    pending: _InFlight | None = None

    async def finish(item: _InFlight, *, evaluate_now: bool = False) -> None:
        output = await item.forward_backward
        await item.optim
        metrics: dict[str, Any] = {
            "train/nll": loss_sum(output),
            "train/lr": item.lr,
            "train/examples": item.examples,
            "data/batch": item.batch,
        }
        if evaluate_now and evaluate is not None:
            metrics.update(await evaluate(item.step))
        await session.step_done(item.step, metrics, item.tokens, in_flight=True)

    for index in range(session.start_step, total):
        step = index + 1
        datums, tokens, _ = supervised_batch([train[i] for i in plan[index]])
        step_tokens = StepTokens(trained=tokens)
        try:
            await session.ensure_budget(
                index, step_tokens, pending.tokens if pending is not None else None
            )
        except BudgetExhausted:
            if pending is not None:
                await finish(pending)
                await session.at_boundary(pending.step)
            raise
        lr = learning_rate_at(index, total, s.learning_rate, s.lr_schedule, s.warmup_steps)
        adam = types.AdamParams(learning_rate=lr, beta1=s.beta1, beta2=s.beta2, eps=s.eps)
        # queue step k before waiting for step k-1: the backend never idles on the trainer
        fb = await session.run.submit_forward_backward(datums, "cross_entropy")
        opt = await session.run.submit_optim_step(adam)
        if pending is not None:
            await finish(pending)
        pending = _InFlight(step, fb, opt, step_tokens, lr, len(datums), batch_digest(plan[index]))
        eval_due = evaluate is not None and s.eval_every > 0 and step % s.eval_every == 0
        save_due = session.save_every > 0 and step % session.save_every == 0
        if step == total or eval_due or save_due or await session.cancel_requested():
            # the weights of exactly this step matter: drain the pipeline
            await finish(pending, evaluate_now=eval_due or step == total)
            pending = None
            await session.at_boundary(step)
    return total
