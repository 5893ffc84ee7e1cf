"""Aggregate a run's items into ``benchmark_results.json`` (and write ``items.jsonl``).

Where they go: one folder per run, ``<outputs>/benchmarks/<slug>/runs/<run-id>/``, and copies of
the label's newest run in ``<outputs>/benchmarks/<slug>/`` (:func:`publish_latest`; see
docs/decisions/0016-one-folder-per-run-and-confined-result-paths.md).
"""

from __future__ import annotations

import os
import re
import shutil
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
from tutorlab.fanout import FanoutStats
from tutorlab.scoring import SCORER_VERSION

from eval_service.custom_tasks import TaskDefinition
from eval_service.epochs import Sample, base_id, reduce_item, sample_of
from eval_service.judge import AGREEMENT_PAIRS, SAFETY_RUBRIC_VERSION, TUTOR_RUBRIC_VERSION
from eval_service.metric_validation import trust_fields
from eval_service.metrics import HEADLINE, METRICS, reported_name
from eval_service.plan import Plan, config_hash
from eval_service.stats import (
    binary_agreement,
    summarize_binary,
    summarize_continuous,
    summarize_counts,
)


class ItemLike(Protocol):
    """A stored benchmark item: a ``BenchmarkItem`` row, or the same fields held in memory."""

    task: str
    item_id: str
    status: str
    verdict: str | None
    verdicts: dict[str, Any]
    meta: dict[str, Any]
    extracted: str | None
    extraction_rule: str | None
    response: str | None
    reasoning: str | None
    finish_reason: str | None
    request: dict[str, Any]
    latency_ms: float | None
    usage: dict[str, Any]
    attempts: int
    cached: bool
    error: str | None


RESULTS_SCHEMA = "tutorlab.benchmark_results/1"
BREAKDOWN_KEYS = {
    "gsm8k": ("topic_tags",),
    "math": ("subject", "level"),
    "tutoring": ("category",),
    "safety": ("category",),
    "over_refusal": ("category",),
}


def slugify(name: str) -> str:
    """``qwen3:8b-baseline`` -> ``qwen3_8b-baseline``: safe as one folder name."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return slug or "model"


def _summary(values: Sequence[bool]) -> dict[str, Any]:
    return summarize_binary(values).model_dump()


class LiveCounts:
    """Running per-task metric counts, so progress polls never re-read every item."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, list[int]]] = {}
        self.errors = 0

    def add(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            if row["status"] != "ok":
                self.errors += 1
                continue
            task = self.counts.setdefault(row["task"], {})
            for name, value in (row["verdicts"].get("metrics") or {}).items():
                if value is not None:
                    pair = task.setdefault(name, [0, 0])
                    pair[0] += 1
                    pair[1] += int(bool(value))

    def add_items(self, items: Iterable[ItemLike]) -> None:
        self.add({"status": it.status, "task": it.task, "verdicts": it.verdicts} for it in items)

    def metrics(self) -> dict[str, Any]:
        return {
            task: {
                reported_name(name): summarize_counts(hits, n).model_dump()
                for name, (n, hits) in metrics.items()
            }
            for task, metrics in sorted(self.counts.items())
        }

    def partial(self) -> dict[str, Any]:
        return {"live": True, "metrics": self.metrics(), "errors": self.errors}


def _metric_values(items: Iterable[ItemLike], metric: str) -> list[bool]:
    return [
        bool(v)
        for it in items
        if it.status == "ok" and (v := it.verdicts.get("metrics", {}).get(metric)) is not None
    ]


def task_metrics(scorer: str, items: Sequence[ItemLike]) -> dict[str, Any]:
    """Every metric of the scorer; judge metrics only when the run had a judge."""
    out = {}
    for metric in METRICS[scorer]:
        values = _metric_values(items, metric.name)
        if metric.judge and not values:
            continue
        out[reported_name(metric.name)] = _summary(values)
    return out


def judge_agreement(items: Sequence[ItemLike]) -> dict[str, Any]:
    """Rule vs judge on the items both judged: raw agreement and Cohen's kappa."""
    out = {}
    for judge_metric, rule_metric in AGREEMENT_PAIRS.items():
        pairs = []
        for item in items:
            metrics = item.verdicts.get("metrics") or {}
            rule, judge = metrics.get(rule_metric), metrics.get(judge_metric)
            if item.status == "ok" and rule is not None and judge is not None:
                pairs.append((bool(rule), bool(judge)))
        if pairs:
            out[f"{reported_name(rule_metric)} vs {reported_name(judge_metric)}"] = (
                binary_agreement(pairs).model_dump()
            )
    return out


def _groups(scorer: str, key: str, items: Sequence[ItemLike]) -> dict[str, list[ItemLike]]:
    groups: dict[str, list[ItemLike]] = defaultdict(list)
    for item in items:
        value = item.meta.get(key)
        if value is None:
            continue
        for label in value if isinstance(value, list) else [value]:
            groups[str(label)].append(item)
    return dict(sorted(groups.items()))


def breakdowns(scorer: str, items: Sequence[ItemLike]) -> dict[str, Any]:
    headline = HEADLINE[scorer]
    out: dict[str, Any] = {}
    for key in BREAKDOWN_KEYS[scorer]:
        groups = _groups(scorer, key, items)
        if groups:
            out[key.removesuffix("_tags")] = {
                label: {reported_name(headline): _summary(_metric_values(group, headline))}
                for label, group in groups.items()
            }
    return out


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 2)


def run_fields(
    *,
    run_id: str,
    target: dict[str, Any],
    config: dict[str, Any],
    items: int,
    latencies: Sequence[float],
    started_at: float,
    finished_at: float,
    fanout: FanoutStats | None,
) -> dict[str, Any]:
    """The fields of a run's results that describe the run, not what its items scored."""
    wall = max(finished_at - started_at, 1e-9)
    return {
        "schema": RESULTS_SCHEMA,
        "run_id": run_id,
        "model": target,
        "config": config,
        "config_hash": config_hash(config),
        "started_at": datetime.fromtimestamp(started_at, UTC).isoformat(),
        "finished_at": datetime.fromtimestamp(finished_at, UTC).isoformat(),
        "timing": {
            "wall_s": round(wall, 3),
            "items_per_s": round(items / wall, 2),
            "latency_ms": {
                "p50": _percentile(latencies, 0.5),
                "p95": _percentile(latencies, 0.95),
                "mean": round(sum(latencies) / len(latencies), 2) if latencies else None,
            },
        },
        "fanout": None
        if fanout is None
        else {"requested": fanout.requested, "cached": fanout.cached, "failed": fanout.failed},
    }


def reused_results(source: dict[str, Any], *, reused_from: str, **run: Any) -> dict[str, Any]:
    """A run that reused ``source``'s scored items (see ``eval_service.reuse``): its scores,
    this run's own fields, every item served from the cache."""
    counts = source["counts"]
    return {
        **source,
        **run_fields(items=counts["items"], latencies=[], **run),
        "counts": {**counts, "cached": counts["items"]},
        "reused_from": reused_from,
        # the same versions (part of the reuse key), validated as now; no judge (never reused)
        **trust_fields({t: i["scorer"] for t, i in source["tasks"].items()}, None),
    }


def build_results(
    *,
    run_id: str,
    target: dict[str, Any],
    config: dict[str, Any],
    plan: Plan,
    items: Sequence[ItemLike],
    started_at: float,
    finished_at: float,
    fanout: FanoutStats | None,
) -> dict[str, Any]:
    scorers = {t.name: t.spec.scorer for t in plan.tasks}
    by_task: dict[str, list[ItemLike]] = defaultdict(list)
    for item in items:
        by_task[item.task].append(item)
    errors = [it for it in items if it.status != "ok"]
    causes: dict[str, int] = defaultdict(int)
    for it in errors:
        causes[(it.error or "unknown")[:120]] += 1
    fresh = [
        it for it in items if it.status == "ok" and not it.cached and it.latency_ms is not None
    ]
    latencies = [it.latency_ms for it in fresh if it.latency_ms is not None]
    usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for it in items:
        for key in usage:
            usage[key] += int(it.usage.get(key) or 0)
    metrics = {task: task_metrics(scorers[task], by_task.get(task, [])) for task in scorers}
    headline = {
        f"{task}.{reported_name(HEADLINE[scorer])}": metrics[task][reported_name(HEADLINE[scorer])][
            "mean"
        ]
        for task, scorer in scorers.items()
    }
    run = run_fields(
        run_id=run_id,
        target=target,
        config=config,
        items=len(items),
        latencies=latencies,
        started_at=started_at,
        finished_at=finished_at,
        fanout=fanout,
    )
    return {
        **run,
        "prompt_versions": {
            **plan.prompt_versions,
            **(
                {"tutor_judge": TUTOR_RUBRIC_VERSION, "safety_judge": SAFETY_RUBRIC_VERSION}
                if config.get("judge")
                else {}
            ),
        },
        "scorer_version": SCORER_VERSION,
        **trust_fields(scorers, config.get("judge")),
        "dataset_checksums": plan.dataset_checksums,
        "usage": usage,
        "counts": {
            "planned": plan.total,
            "items": len(items),
            "scored": len(items) - len(errors),
            "errors": len(errors),
            "cached": sum(1 for it in items if it.cached),
        },
        "error_rate": round(len(errors) / len(items), 6) if items else 0.0,
        "errors_by_cause": dict(sorted(causes.items(), key=lambda kv: -kv[1])),
        "headline": headline,
        "metrics": metrics,
        "judge": {
            "model": config.get("judge"),
            "agreement": {
                task: agreement
                for task in scorers
                if (agreement := judge_agreement(by_task.get(task, [])))
            },
        }
        if config.get("judge")
        else None,
        "breakdowns": {
            task: b for task in scorers if (b := breakdowns(scorers[task], by_task.get(task, [])))
        },
        "tasks": {
            t.name: {
                "scorer": t.spec.scorer,
                "dataset": t.spec.dataset.model_dump(),
                "items": len(t.items),
            }
            | ({} if t.spec.custom is None else custom_task_record(t.spec.custom))
            for t in plan.tasks
        },
    } | ({"epochs": epoch_results(plan, by_task, headline)} if plan.epochs > 1 else {})


def custom_task_record(definition: TaskDefinition) -> dict[str, Any]:
    """What a run's results say of a custom task: its definition and its checksum (its
    data's checksum is in ``dataset_checksums``, as a built-in's is)."""
    return {
        "custom": True,
        "version": definition.version,
        "definition": definition.model_dump(mode="json"),
        "definition_sha256": definition.sha256(),
    }


def epoch_results(
    plan: Plan, by_task: dict[str, list[ItemLike]], headline: dict[str, float | None]
) -> dict[str, Any]:
    """A run of several epochs: each item's reduced scores, and per task the mean of each
    reduced score over the items (``headline`` gains ``<task>.<headline>.<reducer>``)."""
    reduced_items: dict[str, dict[str, Any]] = {}
    metrics: dict[str, dict[str, Any]] = {}
    for task in plan.tasks:
        scorer = task.spec.scorer
        main = HEADLINE[scorer]
        groups: dict[str, list[Sample]] = {item.id: [] for item in task.items}
        for it in by_task.get(task.name, []):
            if it.status == "ok":
                sample = sample_of(
                    int(it.request.get("epoch") or 0),
                    it.verdicts.get("metrics") or {},
                    it.extracted,
                    it.verdict,
                )
                groups.setdefault(base_id(it.item_id), []).append(sample)
        reduced = {
            item_id: reduce_item(samples, plan.reducers, main)
            for item_id, samples in groups.items()
        }
        reduced_items[task.name] = reduced
        task_metrics: dict[str, Any] = {}
        for reducer in plan.reducers:
            if reducer == "mean":
                means: dict[str, Any] = {}
                for m in METRICS[scorer]:
                    values = [r["mean"][m.name] for r in reduced.values() if m.name in r["mean"]]
                    if values or not m.judge:
                        means[reported_name(m.name)] = summarize_continuous(values).model_dump()
                task_metrics["mean"] = means
            else:
                values = [v for r in reduced.values() if (v := r.get(reducer)) is not None]
                summary = summarize_continuous([float(v) for v in values]).model_dump()
                task_metrics[reducer] = {reported_name(main): summary}
                headline[f"{task.name}.{reported_name(main)}.{reducer}"] = summary["mean"]
        metrics[task.name] = task_metrics
    return {
        "n": plan.epochs,
        "reducers": plan.reducers,
        "seeds": [p.seed for p in plan.epoch_params],
        "metrics": metrics,
        "items": reduced_items,
    }


def item_record(item: ItemLike) -> dict[str, Any]:
    """An item's items.jsonl line; a sample of a run of several epochs gives its item's id and
    its ``epoch`` (last, so the per-run fields keep their place)."""
    record = {
        "task": item.task,
        "id": item.item_id,
        "status": item.status,
        "verdict": item.verdict,
        "metrics": item.verdicts.get("metrics", {}),
        "verdicts": item.verdicts,
        "extracted": item.extracted,
        "extraction_rule": item.extraction_rule,
        "response": item.response,
        "reasoning": item.reasoning,
        "finish_reason": item.finish_reason,
        "request": item.request,
        "metadata": item.meta,
        "latency_ms": item.latency_ms,
        "usage": item.usage,
        "attempts": item.attempts,
        "cached": item.cached,
        "error": item.error,
    }
    epoch = item.request.get("epoch")
    if epoch is not None:
        record["id"] = base_id(item.item_id)
        record["epoch"] = epoch
    return record


RESULTS_FILE = "benchmark_results.json"
ITEMS_FILE = "items.jsonl"
COMPARISON_FILE = "comparison.json"
#: a label's folder holds one folder per run under this name
RUNS = "runs"


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def run_folder(label_folder: Path, run_id: str) -> Path:
    """``<label folder>/runs/<run-id>``: one run's files."""
    return label_folder / RUNS / slugify(run_id)


def output_paths(outputs_dir: Path, label: str, run_id: str) -> dict[str, Path]:
    """``<outputs>/benchmarks/<slug>/runs/<run-id>/benchmark_results.json`` and
    ``items.jsonl``: a run's own files, which no later run replaces."""
    folder = run_folder(outputs_dir / "benchmarks" / slugify(label), run_id)
    return {"results": folder / RESULTS_FILE, "items": folder / ITEMS_FILE}


def _started(path: Path) -> tuple[str | None, datetime | None]:
    """The run id and first start of the results at ``path`` (Nones when unreadable)."""
    try:
        results = orjson.loads(path.read_bytes())
        started = datetime.fromisoformat(results["started_at"])
        run_id = results["run_id"]
    except (OSError, ValueError, TypeError, KeyError):
        return None, None
    if not isinstance(run_id, str):
        return None, None
    return run_id, started if started.tzinfo else started.replace(tzinfo=UTC)


def _copy_into(source: Path, target: Path, *, link: bool = False) -> None:
    """Replace ``target`` by a copy of ``source`` in one rename: a hard link when ``link`` and
    the file system allows one (items.jsonl is large and never rewritten in place), else a
    copy. Never a symlink: a copy still reads the same through a Docker volume or on Windows."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        if link:
            try:
                os.link(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)
        else:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _label_folder(folder: Path) -> Path | None:
    """The label folder of a run folder (``<slug>/runs/<id>`` -> ``<slug>``), else None."""
    return folder.parent.parent if folder.parent.name == RUNS else None


def is_latest(folder: Path) -> bool:
    """Whether the run in ``folder`` is its label's newest run, as its label folder says."""
    label = _label_folder(folder)
    if label is None:
        return False
    latest, _ = _started(label / RESULTS_FILE)
    own, _ = _started(folder / RESULTS_FILE)
    return own is not None and latest == own


def keep_in_run_folder(label: Path, run_id: str) -> None:
    """Files an earlier version wrote to the label folder itself (one folder per label): copy
    them into the run's own folder before a newer run's replace them, so that run stays
    readable by its id and path."""
    own = run_folder(label, run_id)
    if (own / RESULTS_FILE).is_file():
        return
    own.mkdir(parents=True, exist_ok=True)
    for name in (ITEMS_FILE, COMPARISON_FILE, RESULTS_FILE):  # the results last
        if (label / name).is_file():
            _copy_into(label / name, own / name, link=name == ITEMS_FILE)


def publish_latest(folder: Path) -> bool:
    """Copy the run in ``folder`` (a run folder) to its label folder's
    ``benchmark_results.json``, ``items.jsonl`` and ``comparison.json`` (removed when the run
    has none), unless the label folder holds a run that started later; the results last, so
    they name the run whose files are there. True when published."""
    label = _label_folder(folder)
    own_id, own_start = _started(folder / RESULTS_FILE)
    if label is None or own_id is None or own_start is None:
        return False
    latest_id, latest_start = _started(label / RESULTS_FILE)
    if latest_id not in (None, own_id) and latest_start is not None and latest_start > own_start:
        return False
    if latest_id is not None and latest_id != own_id:
        keep_in_run_folder(label, latest_id)
    _copy_into(folder / ITEMS_FILE, label / ITEMS_FILE, link=True)
    if (folder / COMPARISON_FILE).is_file():
        _copy_into(folder / COMPARISON_FILE, label / COMPARISON_FILE)
    else:
        (label / COMPARISON_FILE).unlink(missing_ok=True)
    _copy_into(folder / RESULTS_FILE, label / RESULTS_FILE)
    return True


def publish_comparison(folder: Path) -> None:
    """A comparison written for the run in ``folder`` later: also its label folder's
    ``comparison.json`` when the run is the label's newest."""
    label = _label_folder(folder)
    if label is not None and is_latest(folder):
        _copy_into(folder / COMPARISON_FILE, label / COMPARISON_FILE)


def write_files(paths: dict[str, Path], results: dict[str, Any], items: bytes | Path) -> None:
    """items.jsonl (its bytes, or a file written beside it to rename), then the results."""
    paths["results"].parent.mkdir(parents=True, exist_ok=True)
    if isinstance(items, Path):
        os.replace(items, paths["items"])
    else:
        _atomic_write(paths["items"], items)
    _atomic_write(paths["results"], orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")


def items_jsonl(items: Sequence[ItemLike]) -> bytes:
    """items.jsonl: one :func:`item_record` per line. orjson: it holds every prompt and reply,
    and the stdlib encoder was ~10% of a cached re-run."""
    return b"".join(orjson.dumps(item_record(it)) + b"\n" for it in items)
