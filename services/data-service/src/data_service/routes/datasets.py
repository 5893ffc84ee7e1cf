"""/datasets: download (a job), list current versions, a split's card, its items."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from tutorlab.curriculum.tagging import default_tagger
from tutorlab.datasets.records import DATASET_SPLITS
from tutorlab.service.deps import ApiKey, State
from tutorlab.service.jobs_api import IdempotencyKeyHeader, OffsetQuery, submit_job
from tutorlab.service.responses import errors, submitted

from data_service.dataset_import import DownloadParams
from data_service.dataset_sources import HUB_SOURCES
from data_service.dataset_store import DatasetStore
from data_service.deps import DatasetsDep, ItemsDep
from data_service.items import ItemFilter, with_tags
from data_service.models import DatasetVersion
from data_service.schemas import DatasetCard, DatasetVersionPublic, ItemsPage, TaggingPublic

router = APIRouter(prefix="/datasets", tags=["datasets"])


def check_name_split(name: str, split: str) -> None:
    if name not in DATASET_SPLITS:
        raise HTTPException(
            404, f"dataset {name!r} is unknown (known: {', '.join(DATASET_SPLITS)})"
        )
    if split not in DATASET_SPLITS[name]:
        raise HTTPException(
            404,
            f"dataset {name} has no split {split!r} (splits: {', '.join(DATASET_SPLITS[name])})",
        )


async def find_version(
    store: DatasetStore, name: str, split: str, version: str | None = None
) -> DatasetVersion:
    check_name_split(name, split)
    if version is not None:
        row = await store.get_version(version)
        if row is None or (row.name, row.split) != (name, split):
            raise HTTPException(404, f"version {version!r} of {name}/{split} not found")
        return row
    row = await store.current(name, split)
    if row is None:
        raise HTTPException(
            404,
            f"dataset {name}/{split} has not been imported yet: "
            f'POST /datasets/download {{"name": "{name}", "source": "hub" | "mirror"}}',
        )
    return row


@router.post("/download", status_code=202, dependencies=[ApiKey], responses=submitted())
async def download(
    body: DownloadParams,
    state: State,
    idempotency_key: str | None = IdempotencyKeyHeader,
) -> JSONResponse:
    """Import a dataset (or ``all``) from the hub or the mirror; answers the job to poll."""
    return await submit_job(
        state,
        "download_dataset",
        body.model_dump(mode="json"),
        idempotency_key=idempotency_key,
        location="/jobs/{id}",
    )


@router.get("")
async def list_datasets(store: DatasetsDep) -> list[DatasetVersionPublic]:
    """The current version of every imported dataset split."""
    return [DatasetVersionPublic.of(v) for v in await store.list_current()]


def _counts(records: list[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, Any] = {"rows": len(records)}
    subjects = Counter(
        str(r["metadata"]["subject"]) for r in records if r.get("metadata", {}).get("subject")
    )
    if subjects:
        counts["by_subject"] = dict(sorted(subjects.items()))
    levels = Counter(
        str(r["metadata"]["level"]) for r in records if r.get("metadata", {}).get("level")
    )
    if levels:
        counts["by_level"] = dict(sorted(levels.items()))
    socratic = sum(1 for r in records if r.get("metadata", {}).get("socratic_subquestions"))
    if socratic:
        counts["with_socratic_subquestions"] = socratic
    return counts


@router.get("/{name}/{split}", responses=errors(404))
async def dataset_card(name: str, split: str, store: DatasetsDep, index: ItemsDep) -> DatasetCard:
    """A split's card: current version (counts, checksum, source), every version, taggings."""
    version = await find_version(store, name, split)
    records = await index.records(version)
    counts = await asyncio.to_thread(_counts, records)
    return DatasetCard(
        name=name,
        split=split,
        hub_source=HUB_SOURCES[name],
        current=DatasetVersionPublic.of(version),
        counts=counts,
        versions=[DatasetVersionPublic.of(v) for v in await store.versions(name, split)],
        taggings=[TaggingPublic.of(t) for t in await store.taggings(version.id)],
    )


@router.get("/{name}/{split}/items", responses=errors(404))
async def list_items(
    name: str,
    split: str,
    store: DatasetsDep,
    index: ItemsDep,
    offset: int = OffsetQuery,
    limit: int = Query(default=20, ge=1, le=500),
    tag: str | None = Query(default=None, description="taxonomy topic id (its subtopics match)"),
    grade: int | None = Query(default=None, ge=1, le=12),
    subject: str | None = Query(default=None, description="MATH subject, e.g. Algebra"),
    level: int | None = Query(default=None, ge=1, le=5),
    q: str | None = Query(default=None, min_length=1, max_length=200, description="text search"),
    version: str | None = Query(default=None, description="a version id (default: current)"),
    tagging: str | None = Query(default=None, description="a tagging id (default: newest)"),
) -> ItemsPage:
    """A page of items, filtered; each item carries its tags."""
    if tag is not None and tag not in default_tagger().taxonomy:
        raise HTTPException(422, f"tag: unknown topic id {tag!r} (see the taxonomy)")
    row = await find_version(store, name, split, version)
    flt = ItemFilter(tag=tag, grade=grade, subject=subject, level=level, q=q)
    try:
        page = await index.page(row, flt, offset, limit, tagging)
    except LookupError as exc:
        raise HTTPException(404, str(exc.args[0])) from exc
    return ItemsPage(
        name=name,
        split=split,
        version=row.id,
        offset=offset,
        limit=limit,
        total=page.total,
        tags_from=page.tags_from,
        items=page.items,
    )


@router.get("/{name}/{split}/items/{item_id:path}", responses=errors(404))
async def get_item(
    name: str,
    split: str,
    item_id: str,
    store: DatasetsDep,
    index: ItemsDep,
    version: str | None = Query(default=None),
) -> dict[str, Any]:
    """One item with its tags (MATH ids contain slashes: ``test/algebra/1.json``)."""
    row = await find_version(store, name, split, version)
    record = await index.record(row, item_id)
    if record is None:
        raise HTTPException(404, f"item {item_id!r} not found in {name}/{split} ({row.id})")
    tagging = await index.stored_tagging(row)
    tags = await index.tags_for(row, tagging, [record])
    return with_tags(record, tags.get(record["id"]))
