"""Job ``download_dataset``: GSM8K / MATH / MATH-500 from the hub or a mirror, as versions."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from tutorlab.jobs.runtime import JobContext

from data_service.dataset_sources import DATASET_NAMES, loader, splits_for
from data_service.resources import data_resources

#: row counts of the canonical releases; an import that differs says so in its result
EXPECTED_ROWS: dict[tuple[str, str], int] = {
    ("gsm8k", "train"): 7473,
    ("gsm8k", "test"): 1319,
    ("math", "train"): 7500,
    ("math", "test"): 5000,
    ("math500", "test"): 500,
}


class DownloadParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Literal["gsm8k", "math", "math500", "all"]
    source: Literal["hub", "mirror"] = "hub"
    splits: list[Literal["train", "test"]] | None = Field(
        default=None, description="only these splits (default: every split the dataset has)"
    )


def planned_splits(params: DownloadParams) -> list[tuple[str, str]]:
    names = DATASET_NAMES if params.name == "all" else (params.name,)
    pairs = [
        (name, split)
        for name in names
        for split in splits_for(name)
        if params.splits is None or split in params.splits
    ]
    if not pairs:
        raise ValueError(f"splits: {params.name} has none of {params.splits}")
    return pairs


async def download_dataset(ctx: JobContext) -> dict[str, Any]:
    params: DownloadParams = ctx.params
    resources = data_resources(ctx)
    settings, store = resources.settings, resources.datasets
    pairs = planned_splits(params)
    load = loader(
        params.source,
        mirror=settings.dataset_mirror,
        cache_dir=settings.resolved_hf_cache_dir,
        hub_timeout_s=settings.hub_timeout_s,
    )
    await ctx.progress(0, len(pairs))
    results: list[dict[str, Any]] = []
    for done, (name, split) in enumerate(pairs, start=1):
        loaded = await asyncio.to_thread(load, name, split)
        outcome = await store.save(loaded, ctx.job_id)
        version = outcome.version
        entry: dict[str, Any] = {
            "name": name,
            "split": split,
            "status": outcome.status,
            "version": version.id,
            "rows": version.rows,
            "sha256": version.sha256,
            "path": version.path,
        }
        expected = EXPECTED_ROWS.get((name, split))
        if expected is not None and expected != version.rows:
            entry["warning"] = f"expected {expected} rows, got {version.rows}"
        results.append(entry)
        await ctx.progress(done, len(pairs))
    return {
        "source": params.source,
        "datasets": results,
        "created": sum(r["status"] == "created" for r in results),
        "unchanged": sum(r["status"] == "unchanged" for r in results),
        "restored": sum(r["status"] == "restored" for r in results),
    }
