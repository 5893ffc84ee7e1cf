"""Serving dataset items: the records of a version, their tags, filters and pages.

Tags come from the newest stored tagging of the version (``tag_dataset`` job) when there is one;
otherwise the rule tagger computes them on demand: only the page's items for an unfiltered page,
the whole version (once, in a thread, then kept in memory) when a ``tag`` or ``grade`` filter
needs every item's tags. Versions are immutable, so what is cached never goes stale.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tutorlab.curriculum.tagging import default_tagger
from tutorlab.curriculum.taxonomy import Taxonomy, subject_slug
from tutorlab.datasets.records import DatasetRecord

from data_service.dataset_store import DatasetStore
from data_service.models import DatasetTagging, DatasetVersion

RULE_TAGGER = "rule"


def rule_tags(record: dict[str, Any]) -> dict[str, Any]:
    """The rule tagger's tags for one stored record (the tags file's row shape)."""
    result = default_tagger().tag_record(DatasetRecord.model_validate(record))
    return {
        "id": record["id"],
        "topic_tags": result.topic_tags,
        "grade": result.grade,
        "grade_source": result.grade_source,
        "tagger": RULE_TAGGER,
        "tagger_version": result.tagger_version,
    }


def rule_tags_many(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {record["id"]: rule_tags(record) for record in records}


@dataclass(frozen=True)
class ItemFilter:
    tag: str | None = None
    grade: int | None = None
    subject: str | None = None
    level: int | None = None
    q: str | None = None

    @property
    def needs_tags(self) -> bool:
        return self.tag is not None or self.grade is not None

    def matches(
        self, record: dict[str, Any], tags: dict[str, Any] | None, taxonomy: Taxonomy
    ) -> bool:
        metadata = record.get("metadata") or {}
        if self.subject is not None:
            subject = metadata.get("subject")
            if not isinstance(subject, str) or subject_slug(subject) != subject_slug(self.subject):
                return False
        if self.level is not None and metadata.get("level") != self.level:
            return False
        if self.q is not None and self.q.lower() not in record["question"].lower():
            return False
        if self.tag is not None:
            item_tags = (tags or {}).get("topic_tags") or []
            if not any(taxonomy.covers(self.tag, t) for t in item_tags):
                return False
        return self.grade is None or (tags or {}).get("grade") == self.grade


@dataclass
class ItemPage:
    total: int
    items: list[dict[str, Any]]
    tags_from: str


class ItemIndex:
    """Per-process cache of version records and tags (a few versions, least recently used out)."""

    def __init__(self, store: DatasetStore, max_versions: int = 6) -> None:
        self.store = store
        self.max_versions = max_versions
        self._records: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._by_id: dict[str, dict[str, int]] = {}
        self._tags: OrderedDict[str, dict[str, dict[str, Any]]] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    @staticmethod
    def _remember(cache: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > limit:
            cache.popitem(last=False)

    async def records(self, version: DatasetVersion) -> list[dict[str, Any]]:
        async with self._lock(f"records:{version.id}"):
            cached = self._records.get(version.id)
            if cached is None:
                cached = await self.store.load_records(version)
                self._remember(self._records, version.id, cached, self.max_versions)
                self._by_id[version.id] = {r["id"]: i for i, r in enumerate(cached)}
            else:
                self._records.move_to_end(version.id)
            return cached

    async def record(self, version: DatasetVersion, item_id: str) -> dict[str, Any] | None:
        records = await self.records(version)
        index = self._by_id.get(version.id, {}).get(item_id)
        return None if index is None else records[index]

    async def stored_tagging(
        self, version: DatasetVersion, tagging_id: str | None = None
    ) -> DatasetTagging | None:
        if tagging_id is not None:
            tagging = await self.store.get_tagging(tagging_id)
            if tagging is None or tagging.version_id != version.id:
                raise LookupError(
                    f"tagging: {tagging_id!r} is not a tagging of dataset version {version.id}"
                )
            return tagging
        taggings = await self.store.taggings(version.id)
        return taggings[0] if taggings else None

    async def all_tags(
        self, version: DatasetVersion, tagging: DatasetTagging | None
    ) -> dict[str, dict[str, Any]]:
        key = f"{version.id}:{tagging.id if tagging else RULE_TAGGER}"
        async with self._lock(f"tags:{key}"):
            cached = self._tags.get(key)
            if cached is None:
                if tagging is not None:
                    cached = await self.store.load_tags(tagging)
                else:
                    cached = await asyncio.to_thread(rule_tags_many, await self.records(version))
                self._remember(self._tags, key, cached, self.max_versions)
            return cached

    async def tags_for(
        self,
        version: DatasetVersion,
        tagging: DatasetTagging | None,
        records: Sequence[dict[str, Any]],
    ) -> dict[str, dict[str, Any]]:
        """Tags of ``records``: from the full cache when there is one, else only these."""
        key = f"{version.id}:{tagging.id if tagging else RULE_TAGGER}"
        if tagging is not None or key in self._tags:
            return await self.all_tags(version, tagging)
        return await asyncio.to_thread(rule_tags_many, records)

    async def page(
        self,
        version: DatasetVersion,
        flt: ItemFilter,
        offset: int,
        limit: int,
        tagging_id: str | None = None,
    ) -> ItemPage:
        records = await self.records(version)
        tagging = await self.stored_tagging(version, tagging_id)
        taxonomy = default_tagger().taxonomy
        tags: dict[str, dict[str, Any]] | None = None
        if flt.needs_tags:
            tags = await self.all_tags(version, tagging)
        if flt == ItemFilter():
            selected: Sequence[dict[str, Any]] = records
        else:
            selected = await asyncio.to_thread(
                lambda: [
                    r
                    for r in records
                    if flt.matches(r, tags.get(r["id"]) if tags else None, taxonomy)
                ]
            )
        window = list(selected[offset : offset + limit])
        if tags is None:
            tags = await self.tags_for(version, tagging, window)
        items = [with_tags(r, tags.get(r["id"])) for r in window]
        return ItemPage(
            len(selected), items, tagging.id if tagging else f"{RULE_TAGGER} (on demand)"
        )


def with_tags(record: dict[str, Any], tags: dict[str, Any] | None) -> dict[str, Any]:
    out = dict(record)
    if tags is not None:
        out["tags"] = {k: v for k, v in tags.items() if k != "id"}
    return out
