"""/experiments: the record each training run leaves (config, metrics, checkpoints, the
benchmark and comparison, a README), read from its experiment folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from tutorlab.service.deps import State
from tutorlab.service.jobs_api import OffsetQuery
from tutorlab.service.responses import errors

from trainer_service.deps import Settings
from trainer_service.jobs import TRAINING

router = APIRouter(prefix="/experiments", tags=["experiments"])


def _folder(settings: Settings, result: dict[str, Any]) -> Path | None:
    """The run's experiment folder, only if it lies inside the experiments directory."""
    raw = result.get("experiment")
    if not raw:
        return None
    root = settings.experiments_dir.resolve()
    path = Path(raw).resolve()
    return path if path.is_relative_to(root) and path.is_dir() else None


def _summary(folder: Path) -> dict[str, Any]:
    file = folder / "experiment.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@router.get("")
async def list_experiments(
    state: State,
    settings: Settings,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = OffsetQuery,
) -> list[dict[str, Any]]:
    """Experiments, newest first: one per training run that got as far as its folder."""
    jobs = await state.jobs.find(kind=TRAINING, limit=limit, offset=offset)
    rows = []
    for job in jobs:
        folder = _folder(settings, job.result or {})
        if folder is None:
            continue
        summary = _summary(folder)
        rows.append(
            {
                "id": job.id,
                "name": summary.get("name", folder.name),
                "method": summary.get("method", folder.parent.name),
                "status": job.status,
                "cost_usd": (summary.get("totals") or {}).get("cost_usd", 0.0),
                "path": str(folder),
                "links": {"self": f"/experiments/{job.id}", "training": f"/trainings/{job.id}"},
            }
        )
    return rows


@router.get("/{experiment_id}", responses=errors(404))
async def get_experiment(experiment_id: str, state: State, settings: Settings) -> dict[str, Any]:
    """The experiment summary, its rendered README, and which files its folder holds."""
    job = await state.jobs.get(experiment_id)
    if job is None or job.kind != TRAINING:
        raise HTTPException(404, f"experiment {experiment_id!r} not found")
    folder = _folder(settings, job.result or {})
    if folder is None:
        raise HTTPException(
            404, f"experiment {experiment_id!r} has no folder yet (status {job.status})"
        )
    readme = folder / "README.md"
    return {
        "id": job.id,
        "status": job.status,
        "path": str(folder),
        "files": sorted(p.name for p in folder.iterdir() if p.is_file()),
        "summary": _summary(folder),
        "readme": readme.read_text(encoding="utf-8") if readme.is_file() else None,
    }
