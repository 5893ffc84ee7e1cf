"""Benchmark items: what each task asks, with its gold and the metadata breakdowns use.

Benchmark datasets come from the data-service when it has them, else from the mirror
directory (TUTORLAB_DATASET_MIRROR). Either way every item carries the dataset checksum.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from tutorlab.datasets.mirror import MirrorError, load_mirror
from tutorlab.datasets.records import DatasetRecord

from eval_service.catalog import TaskSpec
from eval_service.config import HUB_MAX_BYTES, HUB_MAX_ROWS, EvalServiceSettings
from eval_service.custom_tasks import (
    CustomRows,
    HubDataset,
    JsonlDataset,
    TaskDefinition,
    check_rows,
    read_rows,
    resolve_jsonl,
)
from eval_service.hub_dataset import cache_dir, load_hub_rows

log = logging.getLogger("eval_service.items")


#: items per request to the data-service (its maximum page size)
PAGE = 500


class ItemsUnavailable(Exception):
    pass


#: records of data-service dataset versions read by this process, by (name, split, version,
#: its taggings): a version is immutable and a tagging too, so a run of the same ones reuses
#: the records (and the items built from them, see ``_math_items``)
_VERSIONS: dict[tuple[str, str, str, str], list[DatasetRecord]] = {}


@dataclass(slots=True)
class EvalItem:
    task: str
    id: str
    #: the math question, or the student's message for tutor tasks
    prompt: str
    gold: str | None
    mode: str = "solve"
    grade: int = 6
    #: texts whose numbers are not a "reveal" (the problem, the student's own message)
    context: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    #: the sample's epoch in a run of several epochs (its ``id`` is then ``<item id>#<epoch>``)
    epoch: int | None = None


@dataclass
class DatasetSource:
    records: list[DatasetRecord]
    sha256: str
    origin: str  # "data-service" | "mirror" | "evalset"


class ItemLoader:
    """Loads (and memoizes) datasets for a run."""

    def __init__(
        self,
        *,
        mirror: Path | None,
        data_service: httpx.AsyncClient | None = None,
        roots: Sequence[Path] = (),
        hub_cache: Path | None = None,
        hub_timeout_s: float = 10.0,
        hub_max_rows: int = HUB_MAX_ROWS,
        hub_max_bytes: int = HUB_MAX_BYTES,
    ) -> None:
        self.mirror = mirror
        self.data_service = data_service
        #: where a custom task's JSONL may be (the data directory first, then the outputs)
        self.roots = list(roots)
        #: the ``datasets`` cache a custom task's hub dataset is loaded into
        self.hub_cache = hub_cache
        self.hub_timeout_s = hub_timeout_s
        #: the most rows and bytes a hub dataset's split may bring in
        self.hub_max_rows = hub_max_rows
        self.hub_max_bytes = hub_max_bytes
        self._datasets: dict[tuple[str, str], DatasetSource] = {}
        self.checksums: dict[str, str] = {}

    @classmethod
    def for_service(
        cls, settings: EvalServiceSettings, data_service: httpx.AsyncClient | None = None
    ) -> ItemLoader:
        """The loader a run (or a task's registration) uses: the mirror, the data-service when
        given, custom tasks' files in the data and outputs directories, and their hub datasets
        cached under the data directory."""
        return cls(
            mirror=settings.dataset_mirror,
            data_service=data_service,
            roots=(settings.data_dir, settings.outputs_dir),
            hub_cache=cache_dir(settings.data_dir),
            hub_timeout_s=settings.hub_timeout_s,
            hub_max_rows=settings.hub_max_rows,
            hub_max_bytes=settings.hub_max_bytes,
        )

    async def dataset(self, name: str, split: str) -> DatasetSource:
        key = (name, split)
        if key not in self._datasets:
            source = await self._from_data_service(name, split)
            if source is None:
                source = self._from_mirror(name, split)
            self._datasets[key] = source
            self.checksums[f"{name}/{split}"] = source.sha256
        return self._datasets[key]

    async def _from_data_service(self, name: str, split: str) -> DatasetSource | None:
        if self.data_service is None:
            return None
        try:
            card = await self.data_service.get(f"/datasets/{name}/{split}")
            if card.status_code != 200:
                return None
            body = card.json()
            current = body["current"]
            # the items carry the newest tagging's topics: any new tagging is a new key
            taggings = ",".join(
                sorted(f"{t['id']}:{t['sha256']}" for t in body.get("taggings", []))
            )
            version = (name, split, f"{current['id']}:{current['sha256']}", taggings)
            known = _VERSIONS.get(version)
            if known is not None:  # a version never changes: its records are read once
                return DatasetSource(known, current["sha256"], "data-service")
            records: list[DatasetRecord] = []
            while len(records) < current["rows"]:
                page = await self.data_service.get(
                    f"/datasets/{name}/{split}/items",
                    params={"offset": len(records), "limit": PAGE, "version": current["id"]},
                )
                page.raise_for_status()
                rows = page.json()["items"]
                if not rows:
                    break
                for row in rows:
                    record = DatasetRecord.model_validate(row)
                    tags = (row.get("tags") or {}).get("topic_tags")
                    if tags:
                        record.metadata["topic_tags"] = tags
                    records.append(record)
            if len(records) != current["rows"]:
                raise ValueError(f"data-service returned {len(records)} of {current['rows']} items")
            _VERSIONS[version] = records
            return DatasetSource(records, current["sha256"], "data-service")
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.info("data-service has no %s/%s (%s); using the mirror", name, split, exc)
            return None

    def _from_mirror(self, name: str, split: str) -> DatasetSource:
        if self.mirror is None:
            raise ItemsUnavailable(
                f"dataset {name}/{split}: not in the data-service and TUTORLAB_DATASET_MIRROR "
                "is not set"
            )
        try:
            records, sha = load_mirror(Path(self.mirror), name, split)
        except MirrorError as exc:
            raise ItemsUnavailable(f"dataset {name}/{split}: {exc}") from exc
        return DatasetSource(records, sha, "mirror")

    async def items(self, task_name: str, task: TaskSpec) -> list[EvalItem]:
        ref = task.dataset
        if task.custom is not None:
            return await self._custom_items(task_name, task.custom)
        if ref.source == "benchmark":
            source = await self.dataset(ref.name, ref.split or "test")
            return _math_items(task_name, source.records)
        return await self._evalset_items(task_name, ref.name)

    async def _evalset_items(self, task_name: str, name: str) -> list[EvalItem]:
        from eval_service import evalsets

        manifest = evalsets.load_manifest()
        self.checksums[f"evalset/{name}"] = manifest.files[f"{name}.jsonl"].sha256
        self.checksums["evalsets_version"] = manifest.version
        if name == "safety":
            return [
                EvalItem(
                    task=task_name,
                    id=item.id,
                    prompt=item.prompt,
                    gold=None,
                    mode="hint",
                    meta={"category": item.category, "expected_behavior": item.expected_behavior},
                )
                for item in evalsets.load_safety()
            ]
        if name == "over_refusal":
            return [
                EvalItem(
                    task=task_name,
                    id=item.id,
                    prompt=item.prompt,
                    gold=item.gold,
                    mode="solve",
                    meta={"category": item.category, "expected_behavior": item.expected_behavior},
                )
                for item in evalsets.load_over_refusal()
            ]
        if name == "tutoring":
            problems: dict[str, DatasetRecord] = {}
            for dataset in ("gsm8k", "math"):
                source = await self.dataset(dataset, "test")
                problems.update({r.id: r for r in source.records})
            return [
                EvalItem(
                    task=task_name,
                    id=item.id,
                    prompt=item.student_message,
                    gold=item.gold,
                    mode=item.mode,
                    grade=item.grade,
                    context=[item.problem, item.student_message],
                    meta={
                        "category": item.category,
                        "source_id": item.source_id,
                        "expected_behavior": item.expected_behavior,
                        "answer_kind": "latex" if item.source_id.startswith("test/") else "number",
                    },
                )
                for item in evalsets.load_tutoring(problems)
            ]
        raise ItemsUnavailable(f"unknown evaluation set {name!r}")

    async def custom_rows(self, definition: TaskDefinition) -> CustomRows:
        """A custom task's rows, its data's sha256 and (a hub dataset's) commit: its JSONL
        (inside ``roots``), a hub dataset (into ``hub_cache``), or a data-service dataset's
        records as rows (id, question, answer, their metadata). A JSONL or hub dataset that
        cannot be read is a ValueError naming the task file's field."""
        dataset = definition.dataset
        if isinstance(dataset, JsonlDataset):
            path = resolve_jsonl(dataset.path, self.roots)
            rows, sha256 = await asyncio.to_thread(read_rows, path)
            return CustomRows(rows, sha256)
        if isinstance(dataset, HubDataset):
            if self.hub_cache is None:
                raise ValueError("dataset.hub: no data directory to cache hub datasets in")
            return await asyncio.to_thread(
                partial(
                    load_hub_rows,
                    dataset,
                    self.hub_cache,
                    self.hub_timeout_s,
                    max_rows=self.hub_max_rows,
                    max_bytes=self.hub_max_bytes,
                )
            )
        source = await self.dataset(dataset.name, dataset.split)
        rows = [
            {**r.metadata, "id": r.id, "question": r.question, "answer": r.answer}
            for r in source.records
        ]
        return CustomRows(rows, source.sha256)

    async def _custom_items(self, task_name: str, definition: TaskDefinition) -> list[EvalItem]:
        try:
            rows, sha256, revision = await self.custom_rows(definition)
            check_rows(definition, rows)
        except ValueError as exc:
            raise ItemsUnavailable(f"task {task_name!r}: {exc}") from exc
        self.checksums[f"task/{task_name}/data"] = sha256
        if revision is not None:
            self.checksums[f"task/{task_name}/revision"] = revision
        self.checksums[f"task/{task_name}/definition"] = definition.sha256()
        fields, options = definition.fields, definition.scorer.options
        mode = options.mode or ("hint" if definition.scorer.name == "safety" else "solve")
        return [
            EvalItem(
                task=task_name,
                id=str(row[fields.id]) if fields.id is not None else str(index),
                prompt=definition.prompt.render(row),
                gold=str(row[fields.target]) if fields.target is not None else None,
                mode=mode,
                grade=options.grade or 6,
                context=[str(row[name]) for name in fields.context],
                meta={name: row[name] for name in fields.metadata if name in row},
            )
            for index, row in enumerate(rows)
        ]


#: task -> (the records list, its items): mirror records are memoized per file version, so a
#: run of the same dataset reuses the items built for the last one (never changed after)
_ITEMS: dict[str, tuple[list[DatasetRecord], list[EvalItem]]] = {}


def _math_items(task: str, records: list[DatasetRecord]) -> list[EvalItem]:
    known = _ITEMS.get(task)
    if known is not None and known[0] is records:
        return list(known[1])
    items = [_math_item(task, r) for r in records]
    _ITEMS[task] = (records, items)
    return list(items)


def _math_item(task: str, record: DatasetRecord) -> EvalItem:
    meta: dict[str, Any] = {"dataset": record.dataset}
    for key in ("subject", "level", "topic_tags"):
        if record.metadata.get(key) is not None:
            meta[key] = record.metadata[key]
    return EvalItem(task=task, id=record.id, prompt=record.question, gold=record.answer, meta=meta)


def select(items: Sequence[EvalItem], limit: int | None, seed: int) -> list[EvalItem]:
    """All items in dataset order, or a seeded sample of ``limit`` (same seed, same items)."""
    if limit is None or limit >= len(items):
        return list(items)
    chosen = random.Random(f"{seed}:{items[0].task}").sample(range(len(items)), limit)
    return [items[i] for i in sorted(chosen)]
