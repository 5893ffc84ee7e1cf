"""POST /score: run the benchmark scorers on outputs made elsewhere (no model call)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException
from tutorlab.datasets.records import DatasetRecord
from tutorlab.scoring.offline import score_rows, summarize
from tutorlab.service.deps import ApiKey, State

from eval_service.deps import Resources
from eval_service.items import ItemLoader, ItemsUnavailable
from eval_service.schemas import ScoreRequest

router = APIRouter(tags=["score"])

DATASET_FOR = {"gsm8k": ("gsm8k", "test"), "math": ("math", "test")}


def _item_error(index: int, field: str | None, message: str) -> dict[str, Any]:
    """A bad item as a validation error, in the shape FastAPI's own have (field, loc, msg,
    type), so a client reads a 422 from /score like any other."""
    loc: list[str | int] = ["body", "items", index, *([field] if field else [])]
    return {
        "field": ".".join(str(p) for p in loc[1:]),
        "loc": loc,
        "msg": message,
        "type": "value_error",
    }


@router.post("/score", dependencies=[ApiKey])
async def score(body: ScoreRequest, state: State, resources: Resources) -> dict[str, Any]:
    """Items: ``{question?|id?, response, gold?}``; ``id`` looks the gold up (GSM8K/MATH test)."""
    records: dict[str, DatasetRecord] = {}
    needs_lookup = any(i.get("gold") is None and i.get("id") is not None for i in body.items)
    if body.task in DATASET_FOR and needs_lookup:
        loader = ItemLoader(mirror=state.settings.dataset_mirror, data_service=None)
        try:
            source = await loader.dataset(*DATASET_FOR[body.task])
        except ItemsUnavailable as exc:
            raise HTTPException(422, f"items: gold lookup by id impossible: {exc}") from exc
        records = {r.id: r for r in source.records}
    verifier = resources.verifier() if body.task == "math" else None
    rows = [(i + 1, item) for i, item in enumerate(body.items)]
    results, problems = await score_rows(body.task, rows, verifier=verifier, lookup=records.get)
    if problems and not results:
        detail = [_item_error(p.line - 1, p.field, p.message) for p in problems]
        raise HTTPException(
            422, {"error": "; ".join(f"{d['field']}: {d['msg']}" for d in detail), "detail": detail}
        )
    return {
        "task": body.task,
        "n": len(results),
        "summary": summarize(results),
        "results": json.loads(json.dumps(results, default=str)),
        "problems": [
            {"item": p.line - 1, "field": p.field, "message": p.message} for p in problems
        ],
    }
