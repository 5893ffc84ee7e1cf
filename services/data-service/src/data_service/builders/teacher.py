"""Teacher data for distillation: a registered model answers prompts built by the tutoring policy;
only replies that pass the eval scorers are kept, each with its provenance.

Filters (the scorers of :mod:`tutorlab.scoring`):

- ``solve``: the extracted final answer equals the gold answer (``score_math_response``; MATH also
  through math-verify). A verdict that could not be decided (math-verify error) is not kept.
- ``hint``: the reply does not reveal the final answer (``answer_revealed``) and asks the student a
  question (``guidance(...).asks_question``).

A request that failed after the client's retries is counted as an error, never as a rejection;
so is a reply whose scoring raised (decision 0018): :func:`failed_judgement`, its cause counted
in the build's ``generation`` and the reply recorded beside the rejected ones, never kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from tutorlab.clients import ChatResult
from tutorlab.contracts.endpoints import ModelEndpoint
from tutorlab.fanout import FanoutRequest
from tutorlab.scoring import (
    RULES_VERSION,
    SCORER_VERSION,
    MathKind,
    MathVerdict,
    answer_revealed,
    guidance,
)
from tutorlab.scoring.offload import SCORING_FAILED, failure_cause
from tutorlab.tutoring import PROMPT_VERSION, build_messages

from data_service.builders.socratic import TutorExample

TEACHER_BUILDER_VERSION = "teacher/1"
TeacherMode = Literal["solve", "hint"]


@dataclass(frozen=True)
class TeacherPrompt:
    id: str  # "<record id>:<mode>"
    source_id: str
    mode: str
    message: str
    gold: str
    grade: int
    topic_tags: tuple[str, ...]

    def messages(self) -> list[dict[str, str]]:
        return [m.model_dump() for m in build_messages(self.message, self.mode, self.grade)]


def teacher_prompts(
    records: Sequence[dict[str, Any]], tags: dict[str, dict[str, Any]], modes: Sequence[str]
) -> list[TeacherPrompt]:
    prompts = []
    for record in records:
        if not record.get("answer"):
            continue  # nothing to check a reply against
        tag = tags[record["id"]]
        for mode in modes:
            prompts.append(
                TeacherPrompt(
                    id=f"{record['id']}:{mode}",
                    source_id=record["id"],
                    mode=mode,
                    message=record["question"],
                    gold=str(record["answer"]),
                    grade=int(tag["grade"]),
                    topic_tags=tuple(tag["topic_tags"]),
                )
            )
    return prompts


def fanout_requests(prompts: Sequence[TeacherPrompt], sampling: Any) -> list[FanoutRequest]:
    return [FanoutRequest(p.id, p.messages(), sampling) for p in prompts]


@dataclass(frozen=True)
class Judgement:
    keep: bool
    reason: str | None
    verdicts: dict[str, Any]
    #: ``scoring failed: <Type>: <message>`` when scoring the reply raised (not a rejection)
    error: str | None = None


def failed_judgement(exc: BaseException) -> Judgement:
    """The judgement of a reply whose scoring raised ``exc``: not kept, the cause as ``error``."""
    return Judgement(False, SCORING_FAILED, {}, failure_cause(exc))


def judge_hint(prompt: TeacherPrompt, text: str) -> Judgement:
    revealed = answer_revealed(text, prompt.gold, [prompt.message])
    step = guidance(text, [prompt.message])
    verdicts = {"answer_revealed": revealed, "guidance": asdict(step)}
    if revealed:
        return Judgement(False, "hint reveals the final answer", verdicts)
    if not step.asks_question:
        return Judgement(False, "hint asks no question", verdicts)
    return Judgement(True, None, verdicts)


def judge_solve(verdict: MathVerdict) -> Judgement:
    verdicts = {"math": asdict(verdict)}
    if verdict.correct is None:
        return Judgement(False, "answer could not be checked", verdicts)
    if not verdict.correct:
        return Judgement(False, "wrong final answer", verdicts)
    return Judgement(True, None, verdicts)


def math_kind(dataset: str) -> MathKind:
    return "gsm8k" if dataset == "gsm8k" else "math"


@dataclass
class TeacherOutcome:
    examples: list[TutorExample]
    rejected: list[dict[str, Any]]
    stats: dict[str, Any]


def collect(
    prompts: Sequence[TeacherPrompt],
    results: dict[str, ChatResult],
    errors: dict[str, str],
    judgements: dict[str, Judgement],
    endpoint: ModelEndpoint,
    teacher: str,
) -> TeacherOutcome:
    """Kept examples (with provenance), rejected replies, and counts, in prompt order."""
    examples: list[TutorExample] = []
    rejected: list[dict[str, Any]] = []
    reasons: Counter[str] = Counter()
    scoring_errors: Counter[str] = Counter()
    kept_by_mode: Counter[str] = Counter()
    for prompt in prompts:
        if prompt.id in errors:
            continue
        result = results[prompt.id]
        judgement = judgements[prompt.id]
        if not judgement.keep:
            if judgement.error is not None:
                scoring_errors[judgement.error] += 1
            else:
                reasons[judgement.reason or "rejected"] += 1
            rejected.append(
                {
                    "id": prompt.id,
                    "mode": prompt.mode,
                    "reason": judgement.reason,
                    "response": result.text,
                    "verdicts": judgement.verdicts,
                    **({"error": judgement.error} if judgement.error is not None else {}),
                }
            )
            continue
        kept_by_mode[prompt.mode] += 1
        examples.append(
            TutorExample(
                mode=prompt.mode,
                message=prompt.message,
                response=result.text.strip(),
                grade=prompt.grade,
                topic_tags=prompt.topic_tags,
                source_id=prompt.source_id,
                meta={
                    "provenance": {
                        "teacher": teacher,
                        "teacher_model": endpoint.model,
                        "teacher_kind": endpoint.kind.value,
                        "prompt_version": PROMPT_VERSION,
                        "scorer_version": SCORER_VERSION,
                        "rules_version": RULES_VERSION,
                        "finish_reason": result.finish_reason,
                        "verdicts": judgement.verdicts,
                    }
                },
            )
        )
    error_kinds = Counter(errors.values())
    stats = {
        "prompts": len(prompts),
        "failed_requests": len(errors),
        "request_errors": dict(error_kinds.most_common(10)),
        "scoring_errors": sum(scoring_errors.values()),
        "scoring_error_causes": dict(scoring_errors.most_common(10)),
        "kept": dict(sorted(kept_by_mode.items())),
        "rejected": dict(reasons.most_common()),
    }
    return TeacherOutcome(examples, rejected, stats)
