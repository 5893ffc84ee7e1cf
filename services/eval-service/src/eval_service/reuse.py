"""Reuse an identical earlier run's scored items instead of scoring cached replies again.

A benchmark run with the same target, sampling params, items, prompts, scorer versions and
cache epoch as an earlier run sends the same requests: every reply comes from the response cache
and scores the same. Such a run copies the earlier run's rows in one statement, keeping only the
rows whose reply is still the cache's entry for their key, and derives its result files from the
earlier run's. If any row is missing, nothing is copied and the run scores item by item.

A run is recorded as a source only when it stored every item itself without an error, used the
cache and had no judge. ``rescore`` on a request skips reuse.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from tutorlab.contracts.endpoints import ModelEndpoint
from tutorlab.fanout import FanoutStats
from tutorlab.scoring import RULES_VERSION, SCORER_VERSION

from eval_service.item_store import ItemStore
from eval_service.plan import Plan
from eval_service.schemas import BenchmarkParams
from eval_service.targets import Target

#: the per-run fields of an items.jsonl line (``item_record`` writes them in this order; quotes
#: inside strings are escaped, so only the line's own fields match): a reused item was served
#: from the cache, with no attempt of its own
_RUN_FIELDS = re.compile(rb'"attempts":\d+,"cached":(?:true|false),"error":')
_REUSED_FIELDS = b'"attempts":0,"cached":true,"error":'
#: how the items of a run that called the model once per item read
_CALLED_ONCE = b'"attempts":1,"cached":false,"error":'


def reuse_key(target: dict[str, Any], endpoint: ModelEndpoint, plan: Plan, epoch: int) -> str:
    """What decides every reply and verdict of a run (``target``: its description in the
    results; ``endpoint``: what the client calls, e.g. tutor-api's model string with its
    policy version); equal keys, equal rows."""
    identity = {
        # the endpoint's concurrency limit changes how fast, not what is asked
        "target": {k: v for k, v in target.items() if k != "max_concurrency"},
        "endpoint": endpoint.model_dump(mode="json", exclude={"max_concurrency"}),
        "params": plan.params.model_dump(mode="json", exclude_none=True),
        "epoch": epoch,
        "tasks": [
            [t.name, t.spec.scorer, t.spec.prompt, [item.id for item in t.items]]
            for t in plan.tasks
        ],
        "prompt_versions": plan.prompt_versions,
        "dataset_checksums": plan.dataset_checksums,
        "scorers": [SCORER_VERSION, RULES_VERSION],
    }
    if plan.epochs > 1:  # each sample's seed follows from params; the reducers shape results
        identity["epochs"] = [plan.epochs, plan.reducers]
    return hashlib.sha256(orjson.dumps(identity, option=orjson.OPT_SORT_KEYS)).hexdigest()


def run_reuse_key(params: BenchmarkParams, attempt: int, target: Target, plan: Plan) -> str | None:
    """The key a run may reuse an earlier run under, or become its source: only a first
    attempt that uses the cache and has no judge has one (None otherwise)."""
    if attempt != 1 or params.no_cache or params.judge:
        return None
    return reuse_key(target.describe, target.endpoint, plan, params.cache_epoch)


def reused_items_file(source: Path, total: int) -> bytes | None:
    """The earlier run's items.jsonl with each line marked as served from the cache, or None
    when the file is gone or does not hold ``total`` items."""
    try:
        data = source.read_bytes()
    except OSError:
        return None
    # C-speed checks for the two usual cases (the source was itself reused, or it called the
    # model once per item); a regular expression for any other mix
    if data.count(_REUSED_FIELDS) == total:
        return data
    if data.count(_CALLED_ONCE) + data.count(_REUSED_FIELDS) == total:
        return data.replace(_CALLED_ONCE, _REUSED_FIELDS)
    marked, count = _RUN_FIELDS.subn(_REUSED_FIELDS, data)
    return marked if count == total else None


def stage_reused_items(source: Path, total: int, staged: Path) -> bool:
    """Write :func:`reused_items_file` of ``source`` to ``staged`` (to be renamed into place
    once the rows are copied); False, and nothing written, when it cannot be used."""
    marked = reused_items_file(source, total)
    if marked is None:
        return False
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(marked)
    return True


def read_results(path: Path, run_id: str) -> dict[str, Any] | None:
    """The earlier run's results, or None when the file is gone or now holds another run."""
    try:
        results = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(results, dict) or results.get("run_id") != run_id:
        return None
    return results


@dataclass
class Reuse:
    """An earlier run this run may copy: its id, its results and where its items.jsonl is."""

    source: str
    results: dict[str, Any]
    items_path: Path


async def find_reusable(store: ItemStore, key: str, total: int) -> Reuse | None:
    """The run recorded under ``key`` if its results file still describes it: ``total`` items,
    none failed. Its rows are copied afterwards (``ItemStore.copy_reused``), all or nothing."""
    found = await store.reusable(key)
    if found is None:
        return None
    results_path, items_path = Path(found.results_path), Path(found.items_path)
    results = read_results(results_path, found.run_id)
    if results is None:
        return None
    # a run writes items.jsonl, then the results: a newer items file is another run's
    try:
        if items_path.stat().st_mtime_ns > results_path.stat().st_mtime_ns:
            return None
    except OSError:
        return None
    counts = results.get("counts") or {}
    if counts.get("items") != total or counts.get("errors") != 0:
        return None
    return Reuse(found.run_id, results, items_path)


@dataclass
class Reused:
    """A run that copied an identical earlier run's scored rows: the earlier run's id and
    results, and its items file marked as served from the cache, staged beside this run's
    (None when it could not be used: the items file is then written from the copied rows)."""

    source: str
    results: dict[str, Any]
    items_file: Path | None
    #: every item counted as requested and served from the cache
    stats: FanoutStats


async def copy_earlier_run(
    store: ItemStore, run_id: str, key: str, total: int, paths: dict[str, Path]
) -> Reused | None:
    """Copy the rows of the run recorded under ``key`` into ``run_id`` and make ``run_id`` the
    key's source, in one commit; None, and nothing copied, when there is no such run or any
    of its rows' replies left the cache. The rows are copied in the database's thread while
    another marks the items file: both mostly off the GIL."""
    reuse = await find_reusable(store, key, total)
    if reuse is None:
        return None
    staged = paths["items"].with_name(f".{run_id}.items.jsonl")
    try:
        copied, ready = await asyncio.gather(
            store.copy_reused(run_id, reuse.source, total, remember=(key, paths)),
            asyncio.to_thread(stage_reused_items, reuse.items_path, total, staged),
        )
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    if not copied:
        staged.unlink(missing_ok=True)
        return None
    stats = FanoutStats(requested=total, cached=total)
    return Reused(reuse.source, reuse.results, staged if ready else None, stats)


async def offer_as_source(
    store: ItemStore,
    key: str | None,
    run_id: str,
    *,
    stored_every_item: bool,
    results: dict[str, Any],
    paths: dict[str, Path],
) -> None:
    """Make the run the one later identical runs copy, when it may be: it has a reuse key,
    stored every item itself and none failed. (A run that reused another was recorded as the
    key's source with its copy.)"""
    if key is not None and stored_every_item and results["counts"]["errors"] == 0:
        await store.remember(key, run_id, paths)
