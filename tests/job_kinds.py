"""Job kinds that exist only for tests, and data-service (app and worker) with them registered.

``count_rows`` counts a mirror dataset file's rows and checksums it: a short, real job (progress,
a result, a bad-input 422) to exercise the queue, the worker and the jobs API without the weight
of a production job. ``wait`` only takes its time (``steps`` × 20 ms, reporting progress at each
step): a job that is running for as long as a test needs. Production job lists never hold them;
tests add them here.
"""

from __future__ import annotations

import asyncio
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
from tutorlab.service import ServiceSpec, create_service_app
from tutorlab.settings import ServiceSettings

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


class WaitParams(BaseModel):
    steps: int = 1000


async def wait_handler(ctx: JobContext) -> dict[str, Any]:
    params: WaitParams = ctx.params
    for step in range(params.steps):
        await ctx.progress(step, params.steps)
        await asyncio.sleep(0.02)
    return {"steps": params.steps}


WAIT_KINDS: Mapping[str, JobKind] = {"wait": JobKind("wait", WaitParams, wait_handler)}
#: the job-id prefix of a service that runs only ``wait`` jobs
WAIT_PREFIX = "w"


def wait_service_app(settings: DataServiceSettings) -> FastAPI:
    """A service whose jobs API runs ``wait`` jobs (on data-service's queue and tables)."""
    spec = ServiceSpec(name="data-service", title="t", job_prefix=WAIT_PREFIX, job_kinds=WAIT_KINDS)
    return create_service_app(spec, settings)


def wait_worker_settings(settings: ServiceSettings) -> type:
    """The WorkerSettings of :func:`wait_service_app`'s worker."""
    return build_worker_settings(settings, WAIT_KINDS, WAIT_PREFIX)
