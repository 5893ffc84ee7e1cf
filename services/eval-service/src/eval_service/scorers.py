"""Benchmark rows from fan-out outcomes, scored with the shared task scorers.

Scoring runs on the scoring thread (:mod:`tutorlab.scoring.offload`), so the worker's event loop
keeps serving requests and heartbeats while a degenerate reply is scored; a reply whose scoring
raises is stored as an error item with that cause (decision 0018), never as a wrong answer.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from tutorlab.fanout import FanoutOutcome
from tutorlab.scoring import RULES_VERSION, SCORER_VERSION, MathVerifier
from tutorlab.scoring.offload import SCORING_FAILED, score_batch
from tutorlab.scoring.tasks import ScoreInput

from eval_service.items import EvalItem
from eval_service.plan import TaskPlan


class Scorer:
    """Scores batches; holds the math-verify process pool of the process it runs in.

    Verdicts are memoized per process (scorer versions, gold, context and reply determine
    them), so a warm re-run served from the response cache is not scored again. A check that
    could not be made (``scoring_error``, ``scoring_failed``) is never memoized.
    """

    def __init__(self, verifier: MathVerifier | None, memo_size: int = 50_000) -> None:
        self.verifier = verifier
        self.memo_size = memo_size
        self._memo: OrderedDict[bytes, tuple[dict[str, Any], str]] = OrderedDict()

    def _key(self, scorer: str, item: ScoreInput) -> bytes:
        digest = hashlib.blake2b(digest_size=16)
        for part in (scorer, SCORER_VERSION, RULES_VERSION, item.gold or "", *item.context):
            digest.update(part.encode())
            digest.update(b"\x1f")
        digest.update(item.response.encode())
        return digest.digest()

    async def score(
        self, scorer: str, inputs: Sequence[ScoreInput]
    ) -> list[tuple[dict[str, Any], str]]:
        keys = [self._key(scorer, item) for item in inputs]
        out: list[tuple[dict[str, Any], str] | None] = [self._memo.get(key) for key in keys]
        missing = [i for i, hit in enumerate(out) if hit is None]
        if missing:
            fresh = await score_batch(scorer, [inputs[i] for i in missing], self.verifier)
            for i, scored in zip(missing, fresh, strict=True):
                out[i] = scored
                if scored[1] not in ("scoring_error", SCORING_FAILED):
                    self._memo[keys[i]] = scored
            while len(self._memo) > self.memo_size:
                self._memo.popitem(last=False)
        # rows add keys (truncated, judge) and judge metrics: copy those two levels only
        return [
            ({**verdicts, "metrics": dict(verdicts.get("metrics") or {})}, headline)
            for verdicts, headline in (scored for scored in out if scored is not None)
        ]

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
            scored = await self.score(scorer, inputs)
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
    failed = headline == SCORING_FAILED  # a reply, but its scoring raised: an error item
    return {
        "run_id": run_id,
        "task": task.name,
        "item_id": item.id,
        "status": "ok" if result is not None and not failed else "error",
        "request": {
            "prompt": item.prompt,
            "mode": item.mode,
            "grade": item.grade,
            "gold": item.gold,
        }
        if item.epoch is None
        else {
            "prompt": item.prompt,
            "mode": item.mode,
            "grade": item.grade,
            "gold": item.gold,
            "epoch": item.epoch,
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
        "cache_key": outcome.cache_key,
        "error": verdicts.get("error") if failed else outcome.error,
    }
