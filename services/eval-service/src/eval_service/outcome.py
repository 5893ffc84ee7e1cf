"""The last phases of a benchmark run: its summary (the job's result), the comparison with a
baseline, its files published as its label's newest, and the error-threshold check that fails
the job with that summary."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.jobs.runtime import JobFailed

from eval_service.comparison import ComparisonError, compare_and_write
from eval_service.item_store import ItemStore
from eval_service.results import publish_latest


def summary_of(results: dict[str, Any], paths: dict[str, Path]) -> dict[str, Any]:
    """The job's result: the headline numbers, how far to trust each metric (its scorer,
    version and published κ), and where the files are."""
    return {
        "metrics": results["metrics"],
        "metric_validation": results.get("metric_validation"),
        "results_path": str(paths["results"]),
        "items_path": str(paths["items"]),
        "headline": results["headline"],
        "counts": results["counts"],
        "error_rate": results["error_rate"],
    }


async def compare_with_baseline(
    sessions: async_sessionmaker[AsyncSession],
    store: ItemStore,
    *,
    outputs_dir: Path,
    baseline: str,
    run_id: str,
    results: dict[str, Any],
    paths: dict[str, Path],
) -> dict[str, Any]:
    """The summary's comparison fields: where ``comparison.json`` is, or why there is none
    (the run itself is fine either way: it is kept)."""
    try:
        comparison = await compare_and_write(
            sessions,
            store,
            outputs_dir,
            baseline=baseline,
            baseline_field="compare_to",
            candidate=run_id,
            candidate_results=results,
            candidate_dir=paths["results"].parent,
        )
    except ComparisonError as exc:
        return {"comparison_error": str(exc)}
    return {"comparison_path": comparison["path"], "comparison_id": comparison["id"]}


async def publish_run(paths: dict[str, Path]) -> None:
    """Copy the run's files to its label folder (``<slug>/benchmark_results.json`` …), where
    the newest run of a label is found (see :func:`eval_service.results.publish_latest`)."""
    await asyncio.to_thread(publish_latest, paths["results"].parent)


def check_error_threshold(
    results: dict[str, Any], threshold: float, paths: dict[str, Path], summary: dict[str, Any]
) -> None:
    """Fail the job (JobFailed, with ``summary`` as its result, so the run's results stay
    reachable by its id) when more than ``threshold`` of its items failed."""
    if results["error_rate"] <= threshold:
        return
    counts = results["counts"]
    raise JobFailed(
        f"{counts['errors']} of {counts['items']} items failed "
        f"({results['error_rate']:.1%} > threshold {threshold:.0%}); "
        f"results written to {paths['results']}; causes: {results['errors_by_cause']}",
        result=summary,
    )
