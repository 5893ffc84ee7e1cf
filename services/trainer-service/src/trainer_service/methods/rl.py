"""On-policy methods: RLVR (GRPO-style groups, verifiable rewards) and on-policy distillation
(the teacher's logprobs on the student's own samples), both trained with the
``importance_sampling`` loss on the sampler's logprobs.

Each step samples from the current weights (the sampler is refreshed from the weights after the
previous optimizer step), scores every group as soon as its samples arrive — so scoring hides
behind the sampling still in flight — then submits one forward-backward and one optimizer step.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any, Protocol

from tinker import types
from tutorlab.scoring.mathverify import MathVerifier
from tutorlab.tutoring.policy import system_prompt

from trainer_service.backends.protocol import Sampler
from trainer_service.methods.batches import batch_plan, loss_sum, rl_datum
from trainer_service.rewards import Problem, Reward, RewardWeights, score_replies
from trainer_service.schedule import learning_rate_at
from trainer_service.session import StepTokens, TrainingSession

Evaluate = Callable[[int], Awaitable[dict[str, Any]]]


class ChatRenderer(Protocol):
    """What the on-policy loops need of the renderer."""

    @property
    def stop_tokens(self) -> list[int]: ...

    def generation_prompt(self, messages: Sequence[dict[str, str]]) -> list[int]: ...

    def decode_reply(self, tokens: Sequence[int]) -> str: ...


@dataclass(frozen=True)
class OnPolicySettings:
    group_size: int
    groups_per_batch: int
    max_tokens: int
    temperature: float
    learning_rate: float
    lr_schedule: str
    warmup_steps: int
    num_epochs: int
    eval_every: int
    seed: int
    max_steps: int | None = None
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8


def problem_messages(problem: Problem) -> list[dict[str, str]]:
    """The chat a problem is asked in: the tutoring policy's system prompt for its mode and
    grade, then the question, exactly as tutor-api and the eval send it."""
    return [
        {"role": "system", "content": system_prompt(problem.mode, problem.grade)},
        {"role": "user", "content": problem.question},
    ]


def rl_steps(n_prompts: int, s: OnPolicySettings) -> list[list[int]]:
    return batch_plan(n_prompts, s.groups_per_batch, s.num_epochs, s.seed, s.max_steps)


def _sampling_params(renderer: ChatRenderer, s: OnPolicySettings) -> types.SamplingParams:
    return types.SamplingParams(
        max_tokens=s.max_tokens, temperature=s.temperature, stop=list(renderer.stop_tokens)
    )


def _estimate(prompts: Sequence[Sequence[int]], s: OnPolicySettings, teacher: bool) -> StepTokens:
    """An upper bound of a step's tokens, for the budget check before it starts."""
    prompt_tokens = sum(len(p) for p in prompts)
    sampled = len(prompts) * s.group_size * s.max_tokens
    trained = prompt_tokens * s.group_size + sampled
    prefill = prompt_tokens + (trained if teacher else 0)
    return StepTokens(prefill=prefill, sampled=sampled, trained=trained)


async def _train_on(
    session: TrainingSession, datums: list[types.Datum], s: OnPolicySettings, index: int, total: int
) -> dict[str, Any]:
    lr = learning_rate_at(index, total, s.learning_rate, s.lr_schedule, s.warmup_steps)
    metrics: dict[str, Any] = {"train/lr": lr, "train/datums": len(datums)}
    if not datums:  # every group had equal rewards: nothing to learn from this batch
        return metrics
    adam = types.AdamParams(learning_rate=lr, beta1=s.beta1, beta2=s.beta2, eps=s.eps)
    fb = await session.run.submit_forward_backward(datums, "importance_sampling")
    opt = await session.run.submit_optim_step(adam)
    output = await fb
    await opt
    metrics["train/loss"] = loss_sum(output)
    return metrics


async def _step_done(
    session: TrainingSession,
    s: OnPolicySettings,
    step: int,
    total: int,
    metrics: dict[str, Any],
    tokens: StepTokens,
    evaluate: Evaluate | None,
) -> None:
    """The step's evaluation when one is due (every ``eval_every`` and at the end), then the
    session's bookkeeping."""
    if evaluate is not None and s.eval_every > 0 and (step % s.eval_every == 0 or step == total):
        metrics.update(await evaluate(step))
    await session.step_done(step, metrics, tokens)


def _trained_tokens(datums: Sequence[types.Datum]) -> int:
    return sum(d.model_input.length for d in datums)


def _skip_reason(rewards: Sequence[Reward]) -> str | None:
    """Why a group teaches nothing: every sample's scoring failed (``scoring_failed``), or its
    scored samples all have one reward (``constant_reward``); None when it can be trained on."""
    totals = [r.total for r in rewards if r.total is not None]
    if not totals:
        return "scoring_failed"
    return "constant_reward" if max(totals) == min(totals) else None


def _group_datums(
    prompt: list[int], response: types.SampleResponse, rewards: Sequence[Reward]
) -> list[types.Datum] | None:
    """A group's datums, each scored sample's advantage its reward minus the mean of the group's
    scored rewards; a sample whose scoring failed has no reward and is left out (no datum, not
    in the mean). None when the group has nothing to teach (:func:`_skip_reason`)."""
    if _skip_reason(rewards) is not None:
        return None
    scored = [
        (seq, r.total)
        for seq, r in zip(response.sequences, rewards, strict=True)
        if r.total is not None
    ]
    mean = fmean(total for _, total in scored)
    datums = []
    for seq, total in scored:
        if seq.logprobs is None:
            raise RuntimeError("the sampler returned no logprobs for a sampled sequence")
        datums.append(rl_datum(prompt, seq.tokens, seq.logprobs, total - mean))
    return datums


def _reward_metrics(rewards: Sequence[Reward]) -> dict[str, Any]:
    """A step's reward metrics over its scored samples; the failed ones are counted apart
    (``reward/errors``, their causes in ``reward/error_causes``), never as a wrong answer."""
    totals = [r.total for r in rewards if r.total is not None]
    causes = Counter(r.error for r in rewards if r.error is not None)
    metrics: dict[str, Any] = {
        "reward/mean": fmean(totals) if totals else None,
        "reward/accuracy": _rate([r.correct for r in rewards]),
        "reward/format_rate": _rate([r.formatted for r in rewards]),
        "reward/no_reveal_rate": _rate([r.no_reveal for r in rewards]),
        "reward/asks_question_rate": _rate([r.asks_question for r in rewards]),
        "reward/errors": sum(causes.values()),
    }
    if causes:
        metrics["reward/error_causes"] = dict(causes)
    return metrics


def _rate(values: Sequence[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return fmean(known) if known else None


async def run_rlvr(
    session: TrainingSession,
    renderer: ChatRenderer,
    problems: Sequence[Problem],
    s: OnPolicySettings,
    weights: RewardWeights,
    *,
    verifier: MathVerifier | None = None,
    evaluate: Evaluate | None = None,
) -> int:
    plan = rl_steps(len(problems), s)
    total = len(plan)
    params = _sampling_params(renderer, s)
    for index in range(session.start_step, total):
        step = index + 1
        batch = [problems[i] for i in plan[index]]
        prompts = [renderer.generation_prompt(problem_messages(p)) for p in batch]
        await session.ensure_budget(index, _estimate(prompts, s, teacher=False))
        sampler = await session.run.sampler()

        async def group(
            problem: Problem, prompt: list[int], sampler: Sampler = sampler
        ) -> tuple[types.SampleResponse, list[Reward], list[types.Datum] | None]:
            response = await sampler.sample(
                types.ModelInput.from_ints(prompt), s.group_size, params
            )
            replies = [renderer.decode_reply(seq.tokens) for seq in response.sequences]
            rewards = await score_replies([(problem, r) for r in replies], weights, verifier)
            # built here, while other groups are still being scored, not after the last one
            return response, rewards, _group_datums(prompt, response, rewards)

        results = await asyncio.gather(*(group(p, q) for p, q in zip(batch, prompts, strict=True)))
        datums: list[types.Datum] = []
        all_rewards: list[Reward] = []
        skipped: Counter[str | None] = Counter()
        sampled = prefill = 0
        for prompt, (response, rewards, group_datums) in zip(prompts, results, strict=True):
            all_rewards.extend(rewards)
            prefill += len(prompt)
            sampled += sum(len(seq.tokens) for seq in response.sequences)
            if group_datums is None:
                skipped[_skip_reason(rewards)] += 1
            else:
                datums.extend(group_datums)
        metrics = await _train_on(session, datums, s, index, total)
        metrics.update(_reward_metrics(all_rewards))
        metrics.update(
            {
                "groups/total": len(batch),
                "groups/skipped_constant_reward": skipped["constant_reward"],
                "groups/skipped_scoring_failed": skipped["scoring_failed"],
            }
        )
        tokens = StepTokens(prefill=prefill, sampled=sampled, trained=_trained_tokens(datums))
        await _step_done(session, s, step, total, metrics, tokens, evaluate)
    return total


async def run_onpolicy_distillation(
    session: TrainingSession,
    renderer: ChatRenderer,
    prompts: Sequence[list[int]],
    teacher: Sampler,
    s: OnPolicySettings,
    *,
    kl_coef: float = 1.0,
    evaluate: Evaluate | None = None,
) -> int:
    """The student samples; the teacher scores the sampled tokens; each token's advantage is
    the reverse-KL estimate −kl_coef·(log p_student − log p_teacher)."""
    plan = rl_steps(len(prompts), s)
    total = len(plan)
    params = _sampling_params(renderer, s)
    for index in range(session.start_step, total):
        step = index + 1
        batch = [prompts[i] for i in plan[index]]
        await session.ensure_budget(index, _estimate(batch, s, teacher=True))
        sampler = await session.run.sampler()

        async def one(
            prompt: list[int], sampler: Sampler = sampler
        ) -> list[tuple[list[int], list[float], list[float]]]:
            response = await sampler.sample(
                types.ModelInput.from_ints(prompt), s.group_size, params
            )
            scored = []
            for seq in response.sequences:
                tokens = list(seq.tokens)
                if not tokens:
                    continue
                if seq.logprobs is None:
                    raise RuntimeError("the sampler returned no logprobs for a sampled sequence")
                teacher_lp = await teacher.compute_logprobs(
                    types.ModelInput.from_ints([*prompt, *tokens])
                )
                scored.append(
                    (
                        tokens,
                        list(seq.logprobs),
                        [float(v or 0.0) for v in teacher_lp[len(prompt) :]],
                    )
                )
            return scored

        results = await asyncio.gather(*(one(p) for p in batch))
        datums: list[types.Datum] = []
        kls: list[float] = []
        sampled = prefill = 0
        for prompt, scored in zip(batch, results, strict=True):
            prefill += len(prompt)
            for completion, student_lp, teacher_lp in scored:
                sampled += len(completion)
                prefill += len(prompt) + len(completion)  # the teacher's scoring pass
                diffs = [a - b for a, b in zip(student_lp, teacher_lp, strict=True)]
                kls.extend(diffs)
                datums.append(
                    rl_datum(prompt, completion, student_lp, [-kl_coef * d for d in diffs])
                )
        metrics = await _train_on(session, datums, s, index, total)
        metrics["distill/kl_to_teacher"] = fmean(kls) if kls else None
        tokens = StepTokens(prefill=prefill, sampled=sampled, trained=_trained_tokens(datums))
        await _step_done(session, s, step, total, metrics, tokens, evaluate)
    return total
