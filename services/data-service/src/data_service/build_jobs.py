"""Jobs ``build_socratic`` and ``build_teacher``: generate examples, then the shared pipeline
(:func:`data_service.training_sets.finish_training_set`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial
from typing import Any, Literal

from pydantic import Field
from tutorlab.clients import ChatResult
from tutorlab.contracts.endpoints import CACHE_EPOCH_NAMES, CacheEpoch, ModelParams
from tutorlab.jobs.runtime import JobContext, JobFailed
from tutorlab.scoring import MathVerifier, score_math_responses
from tutorlab.scoring.offload import isolated, on_scoring_thread
from tutorlab.scoring.verdicts import MathKind

from data_service.builders.socratic import BUILDER_VERSION, Problem, build_examples
from data_service.builders.sources import tagged_sample
from data_service.builders.teacher import (
    TEACHER_BUILDER_VERSION,
    Judgement,
    TeacherPrompt,
    collect,
    failed_judgement,
    fanout_requests,
    judge_hint,
    judge_solve,
    math_kind,
    teacher_prompts,
)
from data_service.resources import data_resources
from data_service.training_sets import (
    BuildInput,
    CommonBuildParams,
    SourceProblem,
    finish_training_set,
    version_ref,
)

SocraticMode = Literal["hint", "explain", "check"]
SOCRATIC_MODES: tuple[SocraticMode, ...] = ("hint", "explain", "check")
TeacherMode = Literal["solve", "hint"]
TEACHER_MODES: tuple[TeacherMode, ...] = ("solve", "hint")


class SocraticBuildParams(CommonBuildParams):
    modes: list[SocraticMode] = Field(default_factory=lambda: list(SOCRATIC_MODES), min_length=1)
    max_problems: int | None = Field(
        default=None, ge=1, description="a seeded sample of GSM8K train problems (default: all)"
    )
    check_correct_share: float = Field(
        default=0.2, ge=0.0, le=1.0, description="share of check examples with a correct attempt"
    )
    source_version: str | None = Field(default=None, description="gsm8k/train version id")


class TeacherBuildParams(CommonBuildParams):
    teacher: str = Field(min_length=1, description="registered model name in tutor-api")
    dataset: Literal["gsm8k", "math"] = "gsm8k"
    modes: list[TeacherMode] = Field(default_factory=lambda: list(TEACHER_MODES), min_length=1)
    max_problems: int = Field(default=200, ge=1, le=20_000)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=16, le=32_768)
    concurrency: int | None = Field(default=None, ge=1, le=256)
    cache_epoch: CacheEpoch = Field(
        default=0,
        validation_alias=CACHE_EPOCH_NAMES,
        description="the response cache's round: bump to sample the teacher again",
    )
    source_version: str | None = Field(default=None, description="train version id")


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


async def build_socratic(ctx: JobContext) -> dict[str, Any]:
    params: SocraticBuildParams = ctx.params
    resources = data_resources(ctx)
    store = resources.datasets
    await ctx.progress(0, 3)
    source = await tagged_sample(
        store, "gsm8k", "train", params.source_version, params.max_problems, params.seed
    )
    problems = [
        Problem(
            id=r["id"],
            question=r["question"],
            solution=r["solution"],
            answer=str(r["answer"]),
            grade=int(source.tags[r["id"]]["grade"]),
            topic_tags=tuple(source.tags[r["id"]]["topic_tags"]),
            subquestions=tuple(r.get("metadata", {}).get("socratic_subquestions") or ()),
        )
        for r in source.records
    ]
    await ctx.progress(1, 3)
    examples, report = await asyncio.to_thread(
        lambda: build_examples(
            problems,
            seed=params.seed,
            modes=_dedupe(list(params.modes)),
            check_correct_share=params.check_correct_share,
        )
    )
    await ctx.progress(2, 3)
    data = BuildInput(
        builder="socratic",
        builder_version=BUILDER_VERSION,
        params=params.model_dump(mode="json"),
        examples=examples,
        problems=[SourceProblem(p.id, p.grade, list(p.topic_tags)) for p in problems],
        sources=[
            {
                **version_ref(source.version),
                "problems": len(problems),
                "tags_from": source.tags_from,
            }
        ],
        extra_card={"generation": report.as_dict()},
    )
    result = await finish_training_set(
        job_id=ctx.job_id,
        data=data,
        common=params,
        store=store,
        sessions=resources.sessions,
    )
    await ctx.progress(3, 3)
    return result


async def _judge_solves(pairs: list[tuple[str, str]], kind: MathKind) -> list[Judgement]:
    """The teacher's solve replies' judgements; MATH answers the rules cannot settle go to a
    math-verify pool started for this build. Run on the scoring thread, like every scoring
    (decision 0018): the rules are CPU work, and the job's heartbeats wait on this loop. A
    reply whose scoring raises gets :func:`failed_judgement`, the others theirs."""

    async def judge(
        batch: Sequence[tuple[str, str]], verifier: MathVerifier | None
    ) -> list[Judgement]:
        verdicts = await score_math_responses(batch, kind=kind, verifier=verifier)
        return [judge_solve(verdict) for verdict in verdicts]

    if kind != "math":
        return await isolated(partial(judge, verifier=None), pairs, failed_judgement, kind)
    async with MathVerifier(workers=2) as verifier:
        return await isolated(partial(judge, verifier=verifier), pairs, failed_judgement, kind)


async def _judge_hints(replies: list[tuple[TeacherPrompt, str]]) -> list[Judgement]:
    """The tutoring rules on the teacher's hint replies (on the scoring thread, as above; a
    reply whose judging raises gets :func:`failed_judgement`)."""

    async def judge(batch: Sequence[tuple[TeacherPrompt, str]]) -> list[Judgement]:
        return [judge_hint(prompt, text) for prompt, text in batch]

    return await isolated(judge, replies, failed_judgement, "hint")


async def build_teacher(ctx: JobContext) -> dict[str, Any]:
    params: TeacherBuildParams = ctx.params
    resources = data_resources(ctx)
    store, access = resources.datasets, resources.models
    endpoint = await access.endpoint(params.teacher, field="teacher")
    source = await tagged_sample(
        store, params.dataset, "train", params.source_version, params.max_problems, params.seed
    )
    prompts = teacher_prompts(source.records, source.tags, _dedupe(list(params.modes)))
    overrides: dict[str, Any] = {"seed": params.seed}
    if params.temperature is not None:
        overrides["temperature"] = params.temperature
    if params.max_tokens is not None:
        overrides["max_tokens"] = params.max_tokens
    sampling = ModelParams.model_validate(overrides)
    total = len(prompts)
    await ctx.progress(0, total)

    outcomes, fanout = await access.ask_all(
        endpoint,
        fanout_requests(prompts, sampling),
        cache=resources.response_cache(),
        progress=ctx.progress,
        concurrency=params.concurrency,
        epoch=params.cache_epoch,
    )
    results: dict[str, ChatResult] = {}
    errors: dict[str, str] = {}
    for reply in outcomes.values():
        if reply.result is not None:
            results[reply.id] = reply.result
        else:
            errors[reply.id] = reply.error or "request failed"

    judgements: dict[str, Judgement] = {}
    answered = [p for p in prompts if p.id in results]
    solves = [p for p in answered if p.mode == "solve"]
    if solves:
        pairs = [(p.gold, results[p.id].text) for p in solves]
        solved = await on_scoring_thread(_judge_solves(pairs, math_kind(params.dataset)))
        for prompt, judgement in zip(solves, solved, strict=True):
            judgements[prompt.id] = judgement
    hints = [p for p in answered if p.mode == "hint"]
    for prompt, judgement in zip(
        hints,
        await on_scoring_thread(_judge_hints([(p, results[p.id].text) for p in hints])),
        strict=True,
    ):
        judgements[prompt.id] = judgement

    outcome = collect(prompts, results, errors, judgements, endpoint, params.teacher)
    outcome.stats["cached"] = fanout.cached
    data = BuildInput(
        builder="teacher",
        builder_version=TEACHER_BUILDER_VERSION,
        params=params.model_dump(mode="json"),
        examples=outcome.examples,
        problems=[
            SourceProblem(
                r["id"],
                int(source.tags[r["id"]]["grade"]),
                list(source.tags[r["id"]]["topic_tags"]),
            )
            for r in source.records
        ],
        sources=[
            {
                **version_ref(source.version),
                "problems": len(source.records),
                "tags_from": source.tags_from,
            },
        ],
        extra_card={
            "teacher": {
                "name": params.teacher,
                "kind": endpoint.kind.value,
                "model": endpoint.model,
                "base_url": endpoint.base_url,
                "params": sampling.model_dump(exclude_none=True),
                "cache_epoch": params.cache_epoch,
            },
            "generation": outcome.stats,
        },
        rejected=outcome.rejected,
    )
    if not outcome.examples:
        raise JobFailed(
            f"no teacher reply passed the scorers ({outcome.stats}); nothing to build a set from",
            result={"generation": outcome.stats},
        )
    return await finish_training_set(
        job_id=ctx.job_id,
        data=data,
        common=params,
        store=store,
        sessions=resources.sessions,
    )
