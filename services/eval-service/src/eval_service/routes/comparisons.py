"""/comparisons: paired comparison of two runs (ids or result files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException
from sqlmodel import col, select
from tutorlab.service.deps import ApiKey, State
from tutorlab.service.responses import errors

from eval_service.comparison import ComparisonError, compare_and_write
from eval_service.deps import ItemsDep
from eval_service.models import ComparisonRecord
from eval_service.schemas import ComparisonRequest

router = APIRouter(tags=["comparisons"])


@router.post("/comparisons", status_code=201, dependencies=[ApiKey])
async def create_comparison(
    body: ComparisonRequest, state: State, items: ItemsDep
) -> dict[str, Any]:
    """Compare now; writes ``comparison.json`` in the candidate's run folder. A results file
    must be inside the outputs directory (422 otherwise)."""
    try:
        return await compare_and_write(
            state.sessions,
            items,
            Path(state.settings.outputs_dir),
            baseline=body.baseline,
            candidate=body.candidate,
            n_resamples=body.n_resamples,
            alpha=body.alpha,
        )
    except ComparisonError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/comparisons")
async def list_comparisons(state: State) -> list[dict[str, Any]]:
    async with state.sessions() as session:
        rows = await session.exec(
            select(ComparisonRecord).order_by(col(ComparisonRecord.created_at).desc()).limit(200)
        )
        return [row.model_dump(mode="json") for row in rows]


@router.get("/comparisons/{comparison_id}", responses=errors(404))
async def get_comparison(comparison_id: str, state: State) -> Any:
    async with state.sessions() as session:
        row = await session.get(ComparisonRecord, comparison_id)
    if row is None:
        raise HTTPException(404, f"comparison {comparison_id!r} not found")
    if row.path:
        try:
            return orjson.loads(Path(row.path).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            pass  # the file is gone or was changed: what the table recorded
    return row.model_dump(mode="json")
