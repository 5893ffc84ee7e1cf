"""A finished benchmark run, also logged to MLflow or W&B when tracking is on (decision 0025).

One tracked run per benchmark run, named ``<label>/<run id>``: its params are what the run was
(model, suite and tasks, sampling, scorer and prompt versions, dataset checksums), its metrics
each task's metrics with their confidence intervals and the run's counts, its artifacts the
results file (and the comparison, when there is one). Tracking never fails the run: what went
wrong is the summary's ``tracking_error``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tutorlab.tracking import RunSpec, Tracking, flatten

#: the parts of a metric's summary that become metric values (``<task>.<metric>[.<part>]``)
SUMMARY_PARTS = ("ci_low", "ci_high", "n")


def benchmark_params(results: dict[str, Any]) -> dict[str, Any]:
    """What the run was, from its results file."""
    return {
        "model": results.get("model") or {},
        "config": results.get("config") or {},
        "config_hash": results.get("config_hash"),
        "scorer_version": results.get("scorer_version"),
        "prompt_versions": results.get("prompt_versions") or {},
        "dataset_checksums": results.get("dataset_checksums") or {},
        "scorers": {name: t.get("scorer") for name, t in (results.get("tasks") or {}).items()},
    }


def benchmark_metrics(results: dict[str, Any]) -> dict[str, Any]:
    """Each task's metrics (mean as ``<task>.<metric>``, interval and n beside it), the
    headline (with an epochs run's reduced scores), error rate, counts, usage and timing."""
    values: dict[str, Any] = {}
    for task, metrics in (results.get("metrics") or {}).items():
        for name, summary in metrics.items():
            if isinstance(summary, dict):
                values[f"{task}.{name}"] = summary.get("mean")
                for part in SUMMARY_PARTS:
                    values[f"{task}.{name}.{part}"] = summary.get(part)
            else:
                values[f"{task}.{name}"] = summary
    values |= results.get("headline") or {}
    timing = results.get("timing") or {}
    values |= flatten(
        {
            "error_rate": results.get("error_rate"),
            "counts": results.get("counts") or {},
            "usage": results.get("usage") or {},
            "timing": {"wall_s": timing.get("wall_s"), "items_per_s": timing.get("items_per_s")},
        }
    )
    return values


async def track_benchmark(
    tracking: Tracking,
    *,
    label: str,
    results: dict[str, Any],
    summary: dict[str, Any],
    error_threshold: float,
) -> dict[str, Any]:
    """Log the finished run; the summary's tracking fields (none when tracking is off)."""
    if not tracking.enabled:
        return {}
    run_id = str(results["run_id"])
    model = (results.get("config") or {}).get("model")
    run = await tracking.start(
        RunSpec(
            key=run_id,
            name=f"{label}/{run_id}",
            kind="benchmark",
            group=label,
            params=benchmark_params(results),
            tags={
                "tutorlab.run_id": run_id,
                "tutorlab.label": label,
                **({"tutorlab.model": str(model)} if model else {}),
            },
        )
    )
    await run.metrics(benchmark_metrics(results), step=0)
    for key in ("results_path", "comparison_path"):
        if summary.get(key):
            await run.artifact(Path(summary[key]))
    failed = results["error_rate"] > error_threshold
    await run.finish("failed" if failed else "finished")
    return run.record()
