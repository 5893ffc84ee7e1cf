"""Helpers for data-service integration tests: settings, a job run end to end, a small mirror."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from data_service.config import DataServiceSettings
from data_service.worker import worker_settings

from tests.support import run_worker, unique


def shared_hf_cache(factory: pytest.TempPathFactory) -> Path:
    """One ``datasets`` cache for every data test of the session (the mirror's Arrow files)."""
    path = factory.getbasetemp() / "data-hf-cache"
    path.mkdir(exist_ok=True)
    return path


def data_settings(
    database_url: str,
    redis_url: str,
    mirror: Path | None,
    data_dir: Path,
    hf_cache: Path,
    **extra: Any,
) -> DataServiceSettings:
    return DataServiceSettings(
        database_url=database_url,
        redis_url=redis_url,
        queue_prefix=unique("q"),
        dataset_mirror=mirror,
        data_dir=data_dir,
        hf_cache_dir=hf_cache,
        **extra,
    )


async def run_job(
    client: httpx.AsyncClient,
    settings: DataServiceSettings,
    path: str,
    body: dict[str, Any],
    *,
    expect: str = "succeeded",
    headers: dict[str, str] | None = None,
    **worker_options: Any,
) -> dict[str, Any]:
    """POST a job, run a real arq worker until the queue is empty, return the finished job."""
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/jobs/{response.json()['id']}"
    await run_worker(worker_settings(settings, **worker_options))
    job = (await client.get(response.headers["location"])).json()
    assert job["status"] == expect, job
    return job


def link_mirror(source: Path, target: Path, skip: tuple[str, ...] = ()) -> Path:
    """A mirror under ``target`` whose files are symlinks to ``source``'s (except ``skip``)."""
    for path in sorted(source.rglob("*")):
        if path.is_file():
            relative = path.relative_to(source)
            if str(relative) in skip:
                continue
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(path, target / relative)
    return target


def copy_file(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target
