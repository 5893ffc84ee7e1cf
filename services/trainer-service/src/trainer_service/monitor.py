"""Evaluation during training: at every ``eval_every``, the eval NLL and a fixed slice sampled
from the current weights and scored with the shared scorers — the accuracy and no-reveal curves
a team watches. For monitoring only: the benchmark after training is the number to trust.

The slice is drawn once per run (seeded): ``gsm8k_items`` GSM8K test problems asked in ``solve``
mode (accuracy, boxed-answer rate) and ``tutoring_items`` other GSM8K test problems asked in
``hint`` mode (no answer revealed, a question asked).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from statistics import fmean
from typing import Any

from tinker import types
from tutorlab.scoring.mathverify import MathVerifier

from trainer_service.methods.rl import ChatRenderer, problem_messages
from trainer_service.rewards import Problem, RewardWeights, score_replies
from trainer_service.session import StepTokens, TrainingSession


@dataclass(frozen=True)
class MonitorSlice:
    solve: list[Problem]
    hint: list[Problem]

    @classmethod
    def of(cls, problems: Sequence[Problem], solve_items: int, hint_items: int) -> MonitorSlice:
        solve = [replace(p, mode="solve") for p in problems[:solve_items]]
        hint = [replace(p, mode="hint") for p in problems[solve_items : solve_items + hint_items]]
        return cls(solve, hint)


def _rate(values: list[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return fmean(known) if known else None


def make_evaluator(
    session: TrainingSession,
    renderer: ChatRenderer,
    monitor: MonitorSlice,
    *,
    max_tokens: int,
    temperature: float,
    eval_nll: Callable[[], Awaitable[float | None]] | None = None,
    eval_tokens: int = 0,
    verifier: MathVerifier | None = None,
) -> Callable[[int], Awaitable[dict[str, Any]]]:
    """The evaluation a loop runs every ``eval_every`` steps. With a budget, an evaluation whose
    cost (at most: the eval set's tokens, the slice's prompts and ``max_tokens`` a reply) would
    take the run past ``max_cost_usd`` is skipped, and the metrics say so."""
    params = types.SamplingParams(
        max_tokens=max_tokens, temperature=temperature, stop=list(renderer.stop_tokens)
    )

    problems = [*monitor.solve, *monitor.hint]
    prompts = [renderer.generation_prompt(problem_messages(p)) for p in problems]
    most = StepTokens(
        prefill=(eval_tokens if eval_nll is not None else 0) + sum(len(q) for q in prompts),
        sampled=len(prompts) * max_tokens,
    )

    async def evaluate(step: int) -> dict[str, Any]:
        if not session.affordable(most):
            return {"eval/skipped": "max_cost_usd"}
        metrics: dict[str, Any] = {}
        if eval_nll is not None:
            metrics["eval/nll"] = await eval_nll()
        if not problems:
            return metrics
        sampler = await session.run.sampler()
        responses = await asyncio.gather(
            *(sampler.sample(types.ModelInput.from_ints(q), 1, params) for q in prompts)
        )
        replies = [renderer.decode_reply(r.sequences[0].tokens) for r in responses]
        session.charge(
            StepTokens(
                prefill=sum(len(q) for q in prompts),
                sampled=sum(len(r.sequences[0].tokens) for r in responses),
            )
        )
        rewards = await score_replies(
            list(zip(problems, replies, strict=True)), RewardWeights(), verifier
        )
        solve = [r for p, r in zip(problems, rewards, strict=True) if p.mode == "solve"]
        hint = [r for p, r in zip(problems, rewards, strict=True) if p.mode == "hint"]
        if solve:
            metrics["eval/gsm8k_accuracy"] = _rate([r.correct for r in solve])
            metrics["eval/boxed_rate"] = _rate([r.formatted for r in solve])
            metrics["eval/gsm8k_items"] = len(solve)
        if hint:
            metrics["eval/no_reveal_rate"] = _rate([r.no_reveal for r in hint])
            metrics["eval/asks_question_rate"] = _rate([r.asks_question for r in hint])
            metrics["eval/tutoring_items"] = len(hint)
        failed = sum(r.error is not None for r in rewards)
        if failed:  # no verdict, so in no rate above (decision 0018)
            metrics["eval/scoring_errors"] = failed
        return metrics

    return evaluate
