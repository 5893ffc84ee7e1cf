"""Paired comparison of two benchmark runs (run ids or result files) -> ``comparison.json``."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.jobs.models import Job

from eval_service.epochs import group_records, reduce_item, reduced_scores
from eval_service.item_store import ItemStore
from eval_service.metric_validation import ScorerChanges, mark_scorer_changes, run_scorer_versions
from eval_service.metrics import HEADLINE, METRICS, reported_name
from eval_service.models import ComparisonRecord
from eval_service.result_files import (
    ResultFileError,
    comparison_target,
    job_results,
    read_result_files,
)
from eval_service.results import item_record, publish_comparison
from eval_service.stats import MetricKind, MetricSpec, compare_runs, not_compared


class ComparisonError(Exception):
    """A comparison that cannot be made; the message names the field (``baseline``, …)."""


@dataclass
class RunSide:
    ref: str
    run_id: str | None
    results: dict[str, Any]
    items: list[dict[str, Any]]
    folder: Path | None


async def load_side(
    ref: str,
    field: str,
    sessions: async_sessionmaker[AsyncSession],
    store: ItemStore,
    outputs_dir: Path,
    *,
    results: dict[str, Any] | None = None,
    folder: Path | None = None,
) -> RunSide:
    """A run id known to this service, or a results file inside ``outputs_dir`` (see
    :mod:`eval_service.result_files`); errors name ``field``."""
    async with sessions() as session:
        # a NUL byte is no run id (and PostgreSQL refuses it in a query)
        job = await session.get(Job, ref) if ref and "\x00" not in ref else None
    if job is not None:
        if job.kind != "benchmark":
            raise ComparisonError(f"{field}: {ref} is a {job.kind} job, not a benchmark run")
        if results is None:
            found = await asyncio.to_thread(job_results, job.id, job.result)
            if found is None:
                raise ComparisonError(
                    f"{field}: run {ref} has no results file (status {job.status})"
                )
            results, path = found
            folder = path.parent
        items = [item_record(it) for it in await store.all(ref)]
        return RunSide(ref, ref, results, items, folder)
    try:
        files = await asyncio.to_thread(read_result_files, ref, field, outputs_dir)
    except ResultFileError as exc:
        raise ComparisonError(str(exc)) from exc
    run_id = files.results.get("run_id")
    return RunSide(
        ref, run_id if isinstance(run_id, str) else None, files.results, files.items, files.folder
    )


def _epochs(side: RunSide) -> tuple[int, list[str]]:
    """A side's epochs and reducers (1 and mean for a run that predates them)."""
    config = side.results.get("config")
    config = config if isinstance(config, dict) else {}
    epochs, reducers = config.get("epochs", 1), config.get("reducers", ["mean"])
    if not isinstance(epochs, int) or not isinstance(reducers, list):
        return 1, ["mean"]
    return epochs, [str(r) for r in reducers]


def _scorers(side: RunSide) -> dict[str, str]:
    tasks = side.results.get("tasks") or {}
    return {
        task: scorer
        for task, info in tasks.items()
        if isinstance(scorer := (info or {}).get("scorer", task), str) and scorer in METRICS
    }


def _item_scores(side: RunSide, reduce: bool) -> dict[str, dict[str, bool | float | None]]:
    """Each scored item's metrics; with ``reduce`` (either run sampled several epochs) its
    reduced scores instead: every metric's mean over its samples, and the headline under
    each of the run's other reducers (:mod:`eval_service.epochs`)."""
    scores: dict[str, dict[str, bool | float | None]] = {}
    if reduce:
        _, reducers = _epochs(side)
        scorers = _scorers(side)
        for (task, item_id), samples in group_records(side.items).items():
            headline = HEADLINE.get(scorers.get(task, task), "accuracy")
            reduced = reduce_item(samples, reducers, headline)
            scores[f"{task}/{item_id}"] = reduced_scores(reduced, task, reducers, headline)
        return scores
    for item in side.items:
        if item.get("status") != "ok":
            continue
        task = item["task"]
        scores[f"{task}/{item['id']}"] = {
            f"{task}.{name}": value for name, value in (item.get("metrics") or {}).items()
        }
    return scores


def _metric_specs(side: RunSide, reduce: bool) -> dict[str, MetricSpec]:
    """The side's metrics and how to compare them: binary per item, or with ``reduce`` a
    mean over samples (continuous), pass@k (continuous) and maj@k (binary) of the headline."""
    specs: dict[str, MetricSpec] = {}
    _, reducers = _epochs(side)
    for task, scorer in _scorers(side).items():
        for metric in METRICS[scorer]:
            spec = metric.spec()
            if reduce:
                spec = MetricSpec(
                    kind=MetricKind.continuous, higher_is_better=spec.higher_is_better
                )
            specs[f"{task}.{metric.name}"] = spec
        if reduce:
            headline = HEADLINE[scorer]
            better = next(m.higher_is_better for m in METRICS[scorer] if m.name == headline)
            for reducer in reducers:
                if reducer != "mean":
                    kind = (
                        MetricKind.binary if reducer.startswith("maj@") else MetricKind.continuous
                    )
                    specs[f"{task}.{headline}.{reducer}"] = MetricSpec(
                        kind=kind, higher_is_better=better
                    )
    return specs


def _computed(scores: dict[str, dict[str, bool | float | None]]) -> set[str]:
    """The metrics a run computed: those with a value on at least one of its scored items."""
    return {name for values in scores.values() for name, v in values.items() if v is not None}


VERDICTS = ("improvement", "regression", "no significant change", "not compared")


def compare_sides(
    baseline: RunSide, candidate: RunSide, *, n_resamples: int = 10_000, alpha: float = 0.05
) -> dict[str, Any]:
    """The paired comparison of two runs, over the items both scored. A metric both runs
    computed is tested; one only one run computed (a judge metric, a task one run did not
    have) is listed as ``not compared``; one neither computed is left out. No verdict at all
    (:class:`ComparisonError`) when the runs share no task or no scored item."""
    reduce = _epochs(baseline)[0] > 1 or _epochs(candidate)[0] > 1
    b_specs, c_specs = _metric_specs(baseline, reduce), _metric_specs(candidate, reduce)
    if not set(b_specs) & set(c_specs):
        raise ComparisonError("the two runs share no task: nothing to compare")
    b_scores, c_scores = _item_scores(baseline, reduce), _item_scores(candidate, reduce)
    if not set(b_scores) & set(c_scores):
        raise ComparisonError(
            f"the two runs share no scored item (baseline {len(b_scores)}, candidate "
            f"{len(c_scores)}): no verdict can be given"
        )
    b_done, c_done = _computed(b_scores), _computed(c_scores)
    all_specs = {**b_specs, **c_specs}
    tested = {
        name: spec
        for name, spec in all_specs.items()
        if name in b_specs and name in c_specs and name in b_done and name in c_done
    }
    try:
        comparison = compare_runs(b_scores, c_scores, tested, alpha=alpha, n_resamples=n_resamples)
    except ValueError as exc:  # a metric value of the wrong type in a results file
        raise ComparisonError(str(exc)) from exc
    metrics = {}
    for name, spec in all_specs.items():
        if name in tested:
            metrics[name] = comparison.metrics[name]
        elif (name in b_done) != (name in c_done):
            side = "baseline" if name in b_done else "candidate"
            metrics[name] = not_compared(
                name, spec, f"only the {side} computed it (the other run never did): not tested"
            )
    notes = []
    if comparison.note:
        notes.append(comparison.note)
    b_versions = _mapping(baseline, "prompt_versions")
    c_versions = _mapping(candidate, "prompt_versions")
    differing = sorted(
        k for k in set(b_versions) | set(c_versions) if b_versions.get(k) != c_versions.get(k)
    )
    if differing:
        notes.append(
            "prompt versions differ for "
            + ", ".join(f"{k} ({b_versions.get(k)} vs {c_versions.get(k)})" for k in differing)
            + ": the comparison mixes prompts"
        )
    b_sums = _mapping(baseline, "dataset_checksums")
    c_sums = _mapping(candidate, "dataset_checksums")
    changed = sorted(k for k in set(b_sums) & set(c_sums) if b_sums[k] != c_sums[k])
    if changed:
        notes.append(f"dataset checksums differ for {changed}: items compared by id")
    if reduce:
        notes.append(
            f"items paired over their reduced scores (epochs: baseline {_epochs(baseline)[0]}, "
            f"candidate {_epochs(candidate)[0]}): each metric is its mean over an item's samples"
        )
    one_sided = sorted(_rename(n) for n, m in metrics.items() if n not in tested)
    if one_sided:
        notes.append(f"not compared (only one run computed them): {', '.join(one_sided)}")
    body = comparison.model_dump(mode="json", exclude={"metrics"})
    body["metrics"] = {_rename(n): m.model_dump(mode="json") for n, m in metrics.items()}
    versions = ScorerChanges(
        run_scorer_versions(baseline.results, baseline.items),
        run_scorer_versions(candidate.results, candidate.items),
    )
    scorers = {**_scorers(baseline), **_scorers(candidate)}
    notes.extend(mark_scorer_changes(body["metrics"], scorers, versions))
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
        "scorer_versions": versions.as_json(),
        "notes": notes,
        "summary": {
            verdict: sorted(n for n, m in body["metrics"].items() if m.get("verdict") == verdict)
            for verdict in VERDICTS
        },
        **body,
    }


def _mapping(side: RunSide, key: str) -> dict[str, Any]:
    """A mapping field of a side's results ({} when absent, or not a mapping in a file)."""
    value = side.results.get(key)
    return value if isinstance(value, dict) else {}


def _rename(name: str) -> str:
    task, _, metric = name.partition(".")
    metric, dot, reducer = metric.partition(".")
    return f"{task}.{reported_name(metric)}{dot}{reducer}"


async def compare_and_write(
    sessions: async_sessionmaker[AsyncSession],
    store: ItemStore,
    outputs_dir: Path,
    *,
    baseline: str,
    candidate: str,
    baseline_field: str = "baseline",
    candidate_results: dict[str, Any] | None = None,
    candidate_dir: Path | None = None,
    n_resamples: int = 10_000,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Compare, record the comparison, and write ``comparison.json`` in the candidate's folder
    when that folder is inside ``outputs_dir`` (and its label folder's, when the candidate is
    the label's newest run)."""
    base = await load_side(baseline, baseline_field, sessions, store, outputs_dir)
    cand = await load_side(
        candidate,
        "candidate",
        sessions,
        store,
        outputs_dir,
        results=candidate_results,
        folder=candidate_dir,
    )
    report = await asyncio.to_thread(
        compare_sides, base, cand, n_resamples=n_resamples, alpha=alpha
    )
    comparison_id = f"cmp_{uuid.uuid4().hex[:24]}"
    report["id"] = comparison_id
    path = comparison_target(cand.folder, outputs_dir)
    if path is not None:
        await asyncio.to_thread(_write_comparison, path, report)
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


def _write_comparison(path: Path, report: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    publish_comparison(path.parent)
