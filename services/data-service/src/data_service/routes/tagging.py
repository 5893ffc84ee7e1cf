"""/tag: the rule tagger on one problem or a batch (synchronous, pure); /taxonomy: the topics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException
from tutorlab.curriculum.tagging import default_tagger
from tutorlab.service.deps import ApiKey

from data_service.schemas import TagBatchOutput, TagOutput, TagProblem, TagRequest

router = APIRouter(tags=["tagging"])


def _tag_one(item: TagProblem, grade: int | None) -> TagOutput:
    result = default_tagger().tag(
        item.problem,
        item.solution,
        grade=item.grade if item.grade is not None else grade,
        dataset=item.dataset,
        metadata=item.metadata,
    )
    return TagOutput(id=item.id, **result.model_dump())


def _tag_all(items: list[TagProblem], grade: int | None) -> list[TagOutput]:
    return [_tag_one(item, grade) for item in items]


@router.post("/tag", dependencies=[ApiKey])
async def tag(body: TagRequest) -> TagOutput | TagBatchOutput:
    """Topic tags and a grade. ``grade`` pins the grade (of every item in a batch)."""
    tagger = default_tagger()
    try:
        if body.items is None:
            assert body.problem is not None
            one = TagProblem(
                problem=body.problem,
                solution=body.solution,
                grade=body.grade,
                dataset=body.dataset,
                metadata=body.metadata,
            )
            return await asyncio.to_thread(_tag_one, one, None)
        items = await asyncio.to_thread(_tag_all, body.items, body.grade)
    except (TypeError, ValueError) as exc:
        raise HTTPException(422, f"body: {exc}") from exc
    return TagBatchOutput(
        tagger_version=tagger.version, taxonomy_version=tagger.taxonomy.version, items=items
    )


@router.get("/taxonomy")
async def taxonomy() -> dict[str, Any]:
    """The topic tree the tagger uses, with each topic's grade band."""
    tax = default_tagger().taxonomy
    return {
        "version": tax.version,
        "topics": [
            {"id": t.id, "name": t.name, "grades": list(t.grades), "parent": t.parent_id}
            for t in tax.topics
        ],
        "math_subjects": {
            name: {"primary": m.primary, "topics": list(m.topics)}
            for name, m in tax.math_subjects.items()
        },
    }
