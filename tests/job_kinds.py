"""A job kind that exists only for tests, and data-service (app and worker) with it registered.

``count_rows`` counts a mirror dataset file's rows and checksums it: a short, real job (progress,
a result, a bad-input 422) to exercise the queue, the worker and the jobs API without the weight
of a production job. Production job lists never hold it; tests add it here.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from data_service import app as data_app
from data_service.config import DataServiceSettings
from data_service.jobs import JOB_PREFIX, KINDS
from data_service.worker import resources_hooks
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict
from tutorlab.jobs.arq_worker import build_worker_settings
from tutorlab.jobs.runtime import JobContext, JobKind
from tutorlab.service import create_service_app

MIRROR_FILES: dict[tuple[str, str], str] = {
    ("gsm8k", "train"): "gsm8k/train.jsonl",
    ("gsm8k", "test"): "gsm8k/test.jsonl",
    ("gsm8k", "test_socratic"): "gsm8k/test_socratic.jsonl",
    ("math", "train"): "math/train.jsonl",
    ("math", "test"): "math/test.jsonl",
}


class CountRowsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: Literal["gsm8k", "math"]
    split: Literal["train", "test", "test_socratic"] = "test"


async def count_rows(ctx: JobContext) -> dict[str, Any]:
    params: CountRowsParams = ctx.params
    mirror: Path | None = ctx.resources["settings"].dataset_mirror
    if mirror is None:
        raise ValueError("TUTORLAB_DATASET_MIRROR is not set: no mirror directory to read")
    relative = MIRROR_FILES.get((params.dataset, params.split))
    if relative is None:
        raise ValueError(f"{params.dataset} has no split {params.split!r}")
    path = Path(mirror) / relative
    if not path.is_file():
        raise FileNotFoundError(f"mirror file {path} not found")
    digest = hashlib.sha256()
    rows = 0
    with path.open("rb") as handle:
        for line in handle:
            digest.update(line)
            if line.strip():
                rows += 1
                if rows % 1000 == 0:
                    await ctx.progress(rows)
    await ctx.progress(rows, rows)
    return {
        "dataset": params.dataset,
        "split": params.split,
        "rows": rows,
        "sha256": digest.hexdigest(),
    }


COUNT_ROWS = JobKind("count_rows", CountRowsParams, count_rows, "count a mirror file's rows")
#: data-service's production job kinds plus ``count_rows``
DATA_KINDS: Mapping[str, JobKind] = {**KINDS, COUNT_ROWS.name: COUNT_ROWS}


def data_service_app(settings: DataServiceSettings) -> FastAPI:
    """data-service whose jobs API also accepts ``count_rows``."""
    spec = dataclasses.replace(data_app.SPEC, job_kinds=DATA_KINDS)
    return create_service_app(spec, settings)


def data_worker_settings(settings: DataServiceSettings) -> type:
    """data-worker's WorkerSettings, also running ``count_rows``."""
    startup, shutdown = resources_hooks()
    return build_worker_settings(
        settings, DATA_KINDS, JOB_PREFIX, on_startup=startup, on_shutdown=shutdown
    )
