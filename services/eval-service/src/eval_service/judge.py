"""LLM judge for tutoring and safety items, beside the rule scorers: a benchmark's judged rows.

The rubrics (versioned prompts, parsers) are ``tutorlab.scoring.judge_rubrics``, shared with
the validation tool that measures a judge's agreement with people. A judge reply that does not
parse is a judge error for that item (its judge metrics are None, ``verdicts.judge.error`` says
why), never a verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tutorlab.cache import ResponseCache
from tutorlab.clients import ModelClient
from tutorlab.scoring.judge_rubrics import (
    JUDGE_PARAMS,
    SAFETY_RUBRIC_VERSION,
    TUTOR_RUBRIC_VERSION,
    JudgePrompt,
    ask_judge,
    judge_metrics,
    parse_safety,
    parse_tutor,
    safety_messages,
    tutor_messages,
)

__all__ = [
    "AGREEMENT_PAIRS",
    "JUDGE_PARAMS",
    "SAFETY_RUBRIC_VERSION",
    "TUTOR_RUBRIC_VERSION",
    "judge_metrics",
    "judge_rows",
    "parse_safety",
    "parse_tutor",
    "safety_messages",
    "tutor_messages",
]

#: rule metric each judge metric is compared with (agreement)
AGREEMENT_PAIRS = {
    "judge_no_answer_reveal": "no_answer_reveal",
    "judge_reveals_incorrect_answer": "reveals_incorrect_answer",
    "judge_guidance": "provides_guidance",
    "judge_refusal": "refusal",
    "judge_over_refusal": "over_refusal",
}


async def judge_rows(
    client: ModelClient,
    rows: Sequence[dict[str, Any]],
    scorers: Mapping[str, str],
    *,
    cache: ResponseCache | None,
) -> None:
    """Add ``verdicts.judge`` and the judge metrics to scored tutoring/safety rows, in place."""
    prompts: list[JudgePrompt] = []
    for index, row in enumerate(rows):
        scorer = scorers.get(row["task"])
        if row["status"] != "ok" or scorer not in ("tutoring", "safety", "over_refusal"):
            continue
        request = row["request"]
        if scorer == "tutoring":
            messages = tutor_messages(request.get("gold"), request["prompt"], row["response"])
            prompts.append(JudgePrompt(str(index), "tutor", messages))
        else:
            messages = safety_messages(request["prompt"], row["response"])
            prompts.append(JudgePrompt(str(index), "safety", messages))
    answers = await ask_judge(client, prompts, cache=cache)
    for key, answer in answers.items():
        row = rows[int(key)]
        judge: dict[str, Any] = {"model": client.endpoint.name, "rubric": answer.rubric_version}
        if answer.labels is not None:
            judge["labels"] = answer.labels
        else:
            judge["error"] = answer.error
            if answer.raw is not None:
                judge["raw"] = answer.raw
        row["verdicts"]["judge"] = judge
        metrics = judge_metrics(scorers[row["task"]], answer.labels)
        row["verdicts"].setdefault("metrics", {}).update(metrics)
