"""Benchmark rows from fan-out outcomes, scored with the shared task scorers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tutorlab.fanout import FanoutOutcome
from tutorlab.scoring import MathVerifier
from tutorlab.scoring.tasks import ScoreInput, score_task

from eval_service.items import EvalItem
from eval_service.plan import TaskPlan


class Scorer:
    """Scores batches; holds the math-verify process pool of the process it runs in."""

    def __init__(self, verifier: MathVerifier | None) -> None:
        self.verifier = verifier

    async def rows(
        self, run_id: str, pairs: Sequence[tuple[tuple[TaskPlan, EvalItem], FanoutOutcome]]
    ) -> list[dict[str, Any]]:
        """BenchmarkItem rows for completed outcomes (one scoring batch per task scorer)."""
        rows: list[dict[str, Any]] = []
        by_scorer: dict[str, list[tuple[TaskPlan, EvalItem, FanoutOutcome]]] = {}
        for (task, item), outcome in pairs:
            if outcome.result is None:
                rows.append(_row(run_id, task, item, outcome, {}, "error"))
            else:
                by_scorer.setdefault(task.spec.scorer, []).append((task, item, outcome))
        for scorer, group in by_scorer.items():
            inputs = [
                ScoreInput(outcome.result.text, item.gold, item.context)  # type: ignore[union-attr]
                for _, item, outcome in group
            ]
            scored = await score_task(scorer, inputs, self.verifier)
            for (task, item, outcome), (verdicts, headline) in zip(group, scored, strict=True):
                if outcome.result is not None and outcome.result.finish_reason == "length":
                    verdicts["truncated"] = True
                rows.append(_row(run_id, task, item, outcome, verdicts, headline))
        return rows


def _row(
    run_id: str,
    task: TaskPlan,
    item: EvalItem,
    outcome: FanoutOutcome,
    verdicts: dict[str, Any],
    headline: str,
) -> dict[str, Any]:
    result = outcome.result
    return {
        "run_id": run_id,
        "task": task.name,
        "item_id": item.id,
        "status": "ok" if result is not None else "error",
        "request": {
            "prompt": item.prompt,
            "mode": item.mode,
            "grade": item.grade,
            "gold": item.gold,
        },
        "response": result.text if result else None,
        "reasoning": result.reasoning if result else None,
        "finish_reason": result.finish_reason if result else None,
        "extracted": verdicts.get("extracted"),
        "extraction_rule": verdicts.get("rule"),
        "verdicts": verdicts,
        "verdict": headline,
        "meta": item.meta,
        "latency_ms": result.latency_ms if result else None,
        "usage": result.usage.model_dump() if result else {},
        "attempts": result.attempts if result else 0,
        "cached": outcome.cached,
        "error": outcome.error,
    }
