"""The problems a builder starts from: a seeded sample of a dataset version, with tags."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from data_service.dataset_store import DatasetStore
from data_service.items import rule_tags
from data_service.models import DatasetVersion
from data_service.tag_jobs import resolve_version


@dataclass
class TaggedRecords:
    version: DatasetVersion
    records: list[dict[str, Any]]
    tags: dict[str, dict[str, Any]]
    tags_from: str


def sample(records: Sequence[dict[str, Any]], limit: int | None, seed: int) -> list[dict[str, Any]]:
    """``limit`` records chosen with ``seed`` (all when None), in dataset order."""
    if limit is None or limit >= len(records):
        return list(records)
    chosen = random.Random(f"{seed}:problems").sample(range(len(records)), limit)
    return [records[i] for i in sorted(chosen)]


async def tagged_sample(
    store: DatasetStore,
    name: str,
    split: str,
    version_id: str | None,
    limit: int | None,
    seed: int,
) -> TaggedRecords:
    """A seeded sample of a version; tags from its newest tagging, else the rule tagger."""
    version = await resolve_version(store, name, split, version_id)
    records = sample(await store.load_records(version), limit, seed)
    taggings = await store.taggings(version.id)
    if taggings:
        stored = await store.load_tags(taggings[0])
        tags = {r["id"]: stored[r["id"]] for r in records if r["id"] in stored}
        tags_from = taggings[0].id
    else:
        tags, tags_from = {}, "rule"
    missing = [r for r in records if r["id"] not in tags]
    if missing:
        tags.update(await asyncio.to_thread(lambda: {r["id"]: rule_tags(r) for r in missing}))
    return TaggedRecords(version, records, tags, tags_from)
