"""Job ``tag_dataset``: topic tags and a grade for every item of a dataset version.

``tagger=rule`` runs the deterministic rule tagger; ``tagger=llm`` asks a registered model (fetched
from tutor-api) through :func:`tutorlab.fanout.fan_out` and the response cache, and keeps the rule
tags for any item whose reply is unusable or failed (counted in the summary). The tags go to a
JSONL file beside the dataset file and a ``dataset_taggings`` row; items are then filtered by them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from tutorlab.contracts.endpoints import CACHE_EPOCH_NAMES, CacheEpoch, ModelParams
from tutorlab.curriculum.tagging import default_tagger
from tutorlab.curriculum.taxonomy import Taxonomy
from tutorlab.datasets.records import DatasetRecord
from tutorlab.fanout import FanoutRequest
from tutorlab.jobs.runtime import JobContext, JobFailed

from data_service.dataset_store import DatasetStore
from data_service.items import rule_tags
from data_service.llm_tagger import LLM_TAGGER_VERSION, UnusableReply, parse_reply, tagging_messages
from data_service.models import DatasetTagging, DatasetVersion
from data_service.resources import data_resources
from data_service.tagging_report import subject_agreement

CHUNK = 500


class TagDatasetParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Literal["gsm8k", "math", "math500"]
    split: Literal["train", "test"]
    version: str | None = Field(default=None, description="dataset version id (default: current)")
    tagger: Literal["rule", "llm"] = "rule"
    model: str | None = Field(default=None, description="registered model (tagger=llm)")
    grade: int | None = Field(default=None, ge=1, le=12, description="pin every item's grade")
    concurrency: int | None = Field(default=None, ge=1, le=256)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=256, ge=16, le=8192)
    cache_epoch: CacheEpoch = Field(
        default=0,
        validation_alias=CACHE_EPOCH_NAMES,
        description="the response cache's round: bump to ask the model again",
    )

    @model_validator(mode="after")
    def _model_for_llm(self) -> TagDatasetParams:
        if self.tagger == "llm" and not self.model:
            raise ValueError("model: required when tagger is 'llm'")
        return self


async def resolve_version(
    store: DatasetStore, name: str, split: str, version_id: str | None
) -> DatasetVersion:
    """The version a job reads (``version_id``, else the current one); one that is not there
    fails the job (JobFailed, naming it)."""
    if version_id is not None:
        version = await store.get_version(version_id)
        if version is None or (version.name, version.split) != (name, split):
            raise JobFailed(f"version: {version_id!r} is not a version of {name}/{split}")
        return version
    version = await store.current(name, split)
    if version is None:
        raise JobFailed(
            f"dataset {name}/{split} has not been imported: run POST /datasets/download first"
        )
    return version


def summarize(
    rows: Sequence[dict[str, Any]], records: Sequence[dict[str, Any]], taxonomy: Taxonomy
) -> dict[str, Any]:
    """Counts by grade and top-level topic, and agreement with MATH subject labels if any."""
    by_grade = Counter(str(r["grade"]) for r in rows)
    by_topic: Counter[str] = Counter()
    for row in rows:
        by_topic.update({t.split(".", 1)[0] for t in row["topic_tags"]})
    summary: dict[str, Any] = {
        "items": len(rows),
        "untagged": sum(not r["topic_tags"] for r in rows),
        "by_grade": dict(sorted(by_grade.items(), key=lambda kv: int(kv[0]))),
        "by_topic": dict(by_topic.most_common()),
        "by_tagger": dict(Counter(r["tagger"] for r in rows)),
    }
    agree: dict[str, list[int]] = {}
    for row, record in zip(rows, records, strict=True):
        subject = (record.get("metadata") or {}).get("subject")
        mapping = taxonomy.subject_mapping(subject) if isinstance(subject, str) else None
        if mapping is None:
            continue
        hit = any(taxonomy.covers(t, tag) for tag in row["topic_tags"] for t in mapping.topics)
        counts = agree.setdefault(mapping.subject, [0, 0])
        counts[0] += 1
        counts[1] += hit
    if agree:
        total = sum(c[0] for c in agree.values())
        hits = sum(c[1] for c in agree.values())
        summary["subject_agreement"] = {
            "overall": round(hits / total, 4),
            "by_subject": {s: round(c[1] / c[0], 4) for s, c in sorted(agree.items())},
            "note": "share of items with a stored tag under the topics their MATH subject maps "
            "to (the rule tagger sees the subject label, so for it this holds by construction; "
            "see blind_rule_agreement)",
        }
    return summary


def blind_rule_agreement(records: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The rule tagger's agreement with MATH's subject labels when it does NOT see them."""
    labelled = [
        DatasetRecord.model_validate(r)
        for r in records
        if isinstance((r.get("metadata") or {}).get("subject"), str)
    ]
    if not labelled:
        return None
    report = subject_agreement(labelled)
    return {
        "overall_any_tag": round(report.overall.any_rate, 4),
        "overall_top_tag": round(report.overall.top_rate, 4),
        "by_subject_any_tag": {s: round(row.any_rate, 4) for s, row in report.by_subject.items()},
        "tagger_version": report.tagger_version,
    }


def _rule_tags_all(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule_tags(r) for r in records]


async def _rule_rows(
    ctx: JobContext, records: Sequence[dict[str, Any]], grade: int | None
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for start in range(0, len(records), CHUNK):
        chunk = records[start : start + CHUNK]
        rows += await asyncio.to_thread(_rule_tags_all, chunk)
        await ctx.progress(len(rows), len(records))
    if grade is not None:
        for row in rows:
            row["grade"], row["grade_source"] = grade, "pinned"
    return rows


async def _llm_rows(
    ctx: JobContext, params: TagDatasetParams, records: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    assert params.model is not None
    resources = data_resources(ctx)
    access = resources.models
    taxonomy = default_tagger().taxonomy
    endpoint = await access.endpoint(params.model)
    sampling = ModelParams(temperature=params.temperature, max_tokens=params.max_tokens)
    requests = [
        FanoutRequest(r["id"], tagging_messages(taxonomy, r["question"]), sampling) for r in records
    ]
    outcomes, stats = await access.ask_all(
        endpoint,
        requests,
        cache=resources.response_cache(),
        progress=ctx.progress,
        concurrency=params.concurrency,
        epoch=params.cache_epoch,
    )

    rows: list[dict[str, Any]] = []
    reasons: Counter[str] = Counter()
    for record in records:
        outcome = outcomes.get(record["id"])
        reason: str | None
        if outcome is None or outcome.result is None:
            reason = f"request failed: {outcome.error if outcome else 'no outcome'}"
        else:
            try:
                tags = parse_reply(outcome.result.text, taxonomy)
            except UnusableReply as exc:
                reason = f"unusable reply: {exc}"
            else:
                rows.append(
                    {
                        "id": record["id"],
                        "topic_tags": tags.topic_tags,
                        "grade": params.grade or tags.grade,
                        "grade_source": "pinned" if params.grade else "llm",
                        "tagger": "llm",
                        "tagger_version": LLM_TAGGER_VERSION,
                        "model": params.model,
                    }
                )
                continue
        fallback = await asyncio.to_thread(rule_tags, record)
        if params.grade is not None:
            fallback["grade"], fallback["grade_source"] = params.grade, "pinned"
        fallback["fallback_reason"] = reason
        reasons[reason.split(":", 1)[0]] += 1
        rows.append(fallback)
    extra = {
        "model": params.model,
        "endpoint_model": endpoint.model,
        "requests": stats.requested,
        "cached": stats.cached,
        "failed": stats.failed,
        "errors": stats.errors,
        "fallbacks": dict(reasons),
    }
    return rows, extra


async def tag_dataset(ctx: JobContext) -> dict[str, Any]:
    params: TagDatasetParams = ctx.params
    store = data_resources(ctx).datasets
    version = await resolve_version(store, params.name, params.split, params.version)
    records = await store.load_records(version)
    await ctx.progress(0, len(records))
    taxonomy = default_tagger().taxonomy
    extra: dict[str, Any] = {}
    if params.tagger == "rule":
        rows = await _rule_rows(ctx, records, params.grade)
    else:
        rows, extra = await _llm_rows(ctx, params, records)
    summary = await asyncio.to_thread(summarize, rows, records, taxonomy)
    summary.update(extra)
    if params.tagger == "rule":
        blind = await asyncio.to_thread(blind_rule_agreement, records)
        if blind is not None:
            summary["blind_rule_agreement"] = blind
    tagging = DatasetTagging(
        id=ctx.job_id,
        version_id=version.id,
        tagger=params.tagger,
        model=params.model,
        taxonomy_version=taxonomy.version,
        grade_pin=params.grade,
        sha256="",
        rows=0,
        path=store.tagging_path(version, ctx.job_id),
        summary=summary,
        job_id=ctx.job_id,
    )
    saved = await store.save_tagging(tagging, rows)
    await ctx.progress(len(records), len(records))
    return {
        "tagging": saved.id,
        "version": version.id,
        "tagger": params.tagger,
        "rows": saved.rows,
        "sha256": saved.sha256,
        "path": saved.path,
        "summary": summary,
    }
