"""Paired comparison of two benchmark runs (run ids or result files) -> ``comparison.json``."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.jobs.models import Job

from eval_service.item_store import ItemStore
from eval_service.metrics import METRICS, reported_name
from eval_service.models import ComparisonRecord
from eval_service.results import item_record
from eval_service.stats import MetricSpec, compare_runs


class ComparisonError(Exception):
    pass


@dataclass
class RunSide:
    ref: str
    run_id: str | None
    results: dict[str, Any]
    items: list[dict[str, Any]]
    folder: Path | None


def _read_side_files(results_path: Path, ref: str, run_id: str | None = None) -> RunSide:
    if not results_path.is_file():
        raise ComparisonError(f"{ref}: results file {results_path} not found")
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ComparisonError(f"{ref}: {results_path} is not JSON ({exc.msg})") from exc
    items_path = results_path.parent / "items.jsonl"
    if not items_path.is_file():
        raise ComparisonError(f"{ref}: {items_path} (per-item results) not found")
    items = []
    with items_path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ComparisonError(f"{items_path}:{number}: not JSON ({exc.msg})") from exc
    return RunSide(ref, run_id or results.get("run_id"), results, items, results_path.parent)


async def load_side(
    ref: str,
    sessions: async_sessionmaker[AsyncSession],
    store: ItemStore,
    *,
    results: dict[str, Any] | None = None,
    folder: Path | None = None,
) -> RunSide:
    """A run id known to this service, or a path to a ``benchmark_results.json``."""
    async with sessions() as session:
        job = await session.get(Job, ref)
    if job is not None:
        if job.kind != "benchmark":
            raise ComparisonError(f"{ref}: job is a {job.kind!r}, not a benchmark")
        if results is None:
            path = (job.result or {}).get("results_path")
            if not path:
                raise ComparisonError(f"{ref}: run has no results yet (status {job.status})")
            results = json.loads(Path(path).read_text(encoding="utf-8"))
            folder = Path(path).parent
        items = [item_record(it) for it in await store.all(ref)]
        return RunSide(ref, ref, results, items, folder)
    path = Path(ref)
    if path.is_dir():
        path = path / "benchmark_results.json"
    if path.suffix == ".json" or path.exists():
        return _read_side_files(path, ref)
    raise ComparisonError(f"{ref}: neither a benchmark run id nor a results file")


def _item_scores(side: RunSide) -> dict[str, dict[str, bool | None]]:
    scores: dict[str, dict[str, bool | None]] = {}
    for item in side.items:
        if item.get("status") != "ok":
            continue
        task = item["task"]
        scores[f"{task}/{item['id']}"] = {
            f"{task}.{name}": value for name, value in (item.get("metrics") or {}).items()
        }
    return scores


def _metric_specs(side: RunSide) -> dict[str, MetricSpec]:
    specs: dict[str, MetricSpec] = {}
    for task, info in (side.results.get("tasks") or {}).items():
        for metric in METRICS.get(info.get("scorer", task), ()):
            specs[f"{task}.{metric.name}"] = metric.spec()
    return specs


def compare_sides(
    baseline: RunSide, candidate: RunSide, *, n_resamples: int = 10_000, alpha: float = 0.05
) -> dict[str, Any]:
    specs = {
        name: spec
        for name, spec in _metric_specs(candidate).items()
        if name in _metric_specs(baseline)
    }
    if not specs:
        raise ComparisonError("the two runs share no task: nothing to compare")
    comparison = compare_runs(
        _item_scores(baseline), _item_scores(candidate), specs, alpha=alpha, n_resamples=n_resamples
    )
    notes = []
    if comparison.note:
        notes.append(comparison.note)
    b_versions = baseline.results.get("prompt_versions", {})
    c_versions = candidate.results.get("prompt_versions", {})
    differing = sorted(
        k for k in set(b_versions) | set(c_versions) if b_versions.get(k) != c_versions.get(k)
    )
    if differing:
        notes.append(
            "prompt versions differ for "
            + ", ".join(f"{k} ({b_versions.get(k)} vs {c_versions.get(k)})" for k in differing)
            + ": the comparison mixes prompts"
        )
    b_sums = baseline.results.get("dataset_checksums", {})
    c_sums = candidate.results.get("dataset_checksums", {})
    changed = sorted(k for k in set(b_sums) & set(c_sums) if b_sums[k] != c_sums[k])
    if changed:
        notes.append(f"dataset checksums differ for {changed}: items compared by id")
    body = comparison.model_dump(mode="json")
    body["metrics"] = {_rename(name): value for name, value in body.get("metrics", {}).items()}
    return {
        "schema": "tutorlab.comparison/1",
        "baseline": {
            "ref": baseline.ref,
            "run_id": baseline.run_id,
            "model": baseline.results.get("model"),
        },
        "candidate": {
            "ref": candidate.ref,
            "run_id": candidate.run_id,
            "model": candidate.results.get("model"),
        },
        "notes": notes,
        "summary": {
            verdict: sorted(n for n, m in body["metrics"].items() if m.get("verdict") == verdict)
            for verdict in ("improvement", "regression", "no significant change")
        },
        **body,
    }


def _rename(name: str) -> str:
    task, _, metric = name.partition(".")
    return f"{task}.{reported_name(metric)}"


async def compare_and_write(
    sessions: async_sessionmaker[AsyncSession],
    store: ItemStore,
    *,
    baseline: str,
    candidate: str,
    candidate_results: dict[str, Any] | None = None,
    candidate_dir: Path | None = None,
    n_resamples: int = 10_000,
    alpha: float = 0.05,
) -> dict[str, Any]:
    base = await load_side(baseline, sessions, store)
    cand = await load_side(
        candidate, sessions, store, results=candidate_results, folder=candidate_dir
    )
    report = await asyncio.to_thread(
        compare_sides, base, cand, n_resamples=n_resamples, alpha=alpha
    )
    comparison_id = f"cmp_{uuid.uuid4().hex[:24]}"
    report["id"] = comparison_id
    path: Path | None = None
    if cand.folder is not None:
        path = cand.folder / "comparison.json"
        path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    async with sessions() as session:
        session.add(
            ComparisonRecord(
                id=comparison_id,
                baseline=baseline,
                candidate=candidate,
                path=str(path) if path else None,
                summary=report["summary"],
            )
        )
        await session.commit()
    report["path"] = str(path) if path else None
    return report
