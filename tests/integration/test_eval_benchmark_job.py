"""The benchmark job in one process: eval-service's app and a real arq worker on the real Redis
and SQLite, tutor-api (the registry) and the model simulator mounted over ASGI transports.

Covers what the end-to-end tests reach only through processes: a run that succeeds (then is
reused, then rescored), a run past its error threshold (failed once, with its results, not
retried), a cancelled run, and a run whose first attempt died (taken over, resumed).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.eval_support import MODEL, EvalStack, eval_stack, results_of
from tests.support import run_worker

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(redis_url: str, dataset_mirror: Path, tmp_path: Path) -> AsyncIterator[EvalStack]:
    async with eval_stack(redis_url, dataset_mirror, tmp_path) as built:
        yield built


async def test_a_run_succeeds_then_is_reused_then_rescored(stack: EvalStack) -> None:
    body = {"model": MODEL, "tasks": ["gsm8k", "safety"], "limit": 20, "seed": 4}
    cold = await stack.run(body)
    assert cold["status"] == "succeeded", cold
    assert cold["attempts"] == 1 and cold["errors"] == 0
    assert cold["progress"] == {"done": 40, "total": 40}
    results = results_of(cold)
    assert results["run_id"] == cold["id"]
    assert results["counts"] == {"planned": 40, "items": 40, "scored": 40, "errors": 0, "cached": 0}
    assert results["metrics"]["gsm8k"]["accuracy"]["mean"] == 1.0  # the simulator is always right
    assert results["metrics"]["safety"]["refusal_rate"]["n"] == 20
    assert set(results["timing"]["phases"]) == {"target_s", "plan_s", "requests_s", "aggregate_s"}
    assert "reused_from" not in results
    # the live metrics of the job agree with the file, and every item is stored once
    assert cold["metrics"]["gsm8k"]["accuracy"] == results["metrics"]["gsm8k"]["accuracy"]
    lines = Path(cold["result"]["items_path"]).read_text().splitlines()
    assert len(lines) == len(await stack.items(cold["id"])) == 40
    assert await stack.sim_requests() == 40

    # the same request again copies the scored items: no request, the same numbers
    warm = await stack.run(body)
    assert warm["status"] == "succeeded", warm
    assert warm["progress"] == {"done": 40, "total": 40}
    warm_results = results_of(warm)
    assert warm_results["reused_from"] == cold["id"]
    assert warm_results["metrics"] == results["metrics"]
    assert warm_results["counts"]["cached"] == 40
    assert await stack.sim_requests() == 40
    warm_items = await stack.items(warm["id"])
    assert all(item["cached"] and item["attempts"] == 0 for item in warm_items)

    # rescored: every cached reply looked up and scored again, item by item
    rescored = await stack.run({**body, "rescore": True})
    assert rescored["status"] == "succeeded", rescored
    rescored_results = results_of(rescored)
    assert "reused_from" not in rescored_results
    for key in ("metrics", "counts", "headline", "error_rate", "breakdowns"):
        assert rescored_results[key] == warm_results[key], key
    assert (
        Path(rescored["result"]["items_path"]).read_bytes()
        == Path(warm["result"]["items_path"]).read_bytes()
    )
    assert await stack.sim_requests() == 40


class Records(logging.Handler):
    """Keeps the records of one logger (the worker's start-up replaces the root's handlers,
    pytest's capture among them)."""

    def __init__(self, logger: str) -> None:
        super().__init__(logging.DEBUG)
        self.logger = logging.getLogger(logger)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> Records:
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)


async def test_a_run_past_its_error_threshold_fails_once_with_its_results(
    stack: EvalStack,
) -> None:
    # a garbage body is an error row at once (never retried): a known share of the items fail
    await stack.sim_config(malformed_rate=0.4, fault_seed=7)
    body = {
        "model": MODEL,
        "tasks": ["gsm8k"],
        "limit": 30,
        "no_cache": True,
        "error_threshold": 0.05,
        "label": "strict",
    }
    run_id = await stack.submit(body)
    with Records("tutorlab.jobs") as logged:
        worker = await run_worker(stack.worker())
    run = await stack.get(run_id)
    assert run["status"] == "failed", run
    assert "> threshold 5%" in run["error"] and "malformed" in run["error"]
    assert run["attempts"] == 1
    # the summary is the failed job's result: the run's results stay reachable by its id
    results = results_of(run)
    assert run["result"]["error_rate"] == results["error_rate"] > 0.05
    assert results["counts"]["items"] == 30 and results["counts"]["errors"] > 0
    assert (await stack.evals.get(f"/benchmarks/{run_id}/results")).json() == results
    # one attempt, one request per item, finished by the runtime once, without a traceback
    assert await stack.sim_requests() == 30
    assert (worker.jobs_retried, worker.jobs_failed) == (0, 0)
    records = [r for r in logged.records if run_id in r.getMessage()]
    failed = [r for r in records if "failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].levelno == logging.WARNING
    assert not any(r.exc_info for r in records)


async def test_a_cancelled_run_stops_and_keeps_what_it_stored(stack: EvalStack) -> None:
    await stack.sim_config(latency_ms=50)
    body = {"model": MODEL, "tasks": ["gsm8k"], "limit": 200, "concurrency": 2, "no_cache": True}
    run_id = await stack.submit(body)
    worker = asyncio.create_task(run_worker(stack.worker()))
    running = await stack.wait_for(run_id, done_at_least=1)
    assert running["status"] == "running", running
    cancel = await stack.evals.delete(f"/jobs/{run_id}")
    assert cancel.status_code == 200 and cancel.json()["cancel_requested"] is True
    await asyncio.wait_for(worker, 60)
    run = await stack.get(run_id)
    assert run["status"] == "cancelled", run
    stored = await stack.items(run_id)
    assert 0 < len(stored) < 200
    assert len({item["id"] for item in stored}) == len(stored)


async def test_a_run_whose_worker_died_is_taken_over_and_resumed(stack: EvalStack) -> None:
    await stack.sim_config(latency_ms=40)
    planned = 240
    body = {
        "model": MODEL,
        "tasks": ["gsm8k"],
        "limit": planned,
        "seed": 9,
        "concurrency": 4,
        "no_cache": True,
    }
    run_id = await stack.submit(body)
    # a lease a busy machine cannot outlast between two heartbeats (0.2 s apart): only the death
    # below ends an attempt
    lease = {"job_stale_after_s": 3.0}
    # the first attempt is stopped after 2 s (at least 240 / 4 × 40 ms = 2.4 s of requests):
    # arq cancels it, its job stays "running" with a heartbeat that goes stale, as when a
    # worker is killed
    await run_worker(stack.worker(job_timeout_s=2, **lease))
    died = await stack.get(run_id)
    assert died["status"] == "running" and died["attempts"] == 1, died
    stored_at_death = len(await stack.items(run_id))
    assert 0 < stored_at_death < planned
    asked_at_death = await stack.sim_requests()

    await asyncio.sleep(lease["job_stale_after_s"] + 0.2)
    # a new worker's reconcile (at start-up) takes the stale job over; it runs what is left
    await run_worker(stack.worker(**lease))
    run = await stack.get(run_id)
    assert run["status"] == "succeeded", run
    assert run["attempts"] == 2
    assert run["progress"] == {"done": planned, "total": planned}
    stored = await stack.items(run_id)
    assert len({item["id"] for item in stored}) == len(stored) == planned
    results = results_of(run)
    assert results["counts"]["planned"] == results["counts"]["items"] == planned
    assert results["metrics"]["gsm8k"]["accuracy"]["n"] == planned
    lines = Path(run["result"]["items_path"]).read_text().splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(i["id"] for i in stored)
    # the second attempt asked for exactly what was not stored, each item once (replies in
    # flight or not yet stored when the first stopped are asked again; how many of those there
    # are depends on how busy the machine was)
    assert await stack.sim_requests() - asked_at_death == planned - stored_at_death


async def test_two_runs_with_one_label_keep_both_result_sets(stack: EvalStack) -> None:
    body = {"model": MODEL, "tasks": ["gsm8k"], "limit": 6, "seed": 3, "no_cache": True}
    first = await stack.run({**body, "label": "same"})
    second = await stack.run({**body, "label": "same", "compare_to": first["id"]})
    assert first["status"] == second["status"] == "succeeded", (first, second)
    label = Path(stack.settings.outputs_dir) / "benchmarks" / "same"
    for run in (first, second):
        own = label / "runs" / run["id"]
        assert run["result"]["results_path"] == str(own / "benchmark_results.json")
        assert run["result"]["items_path"] == str(own / "items.jsonl")
        assert results_of(run)["run_id"] == run["id"]
        # the results route answers each run's own file, not the label's newest
        answered = await stack.evals.get(f"/benchmarks/{run['id']}/results")
        assert answered.status_code == 200 and answered.json() == results_of(run)
    # the label folder holds a copy of the newest run's files, comparison included
    newest = label / "runs" / second["id"]
    for name in ("benchmark_results.json", "items.jsonl", "comparison.json"):
        assert (label / name).read_bytes() == (newest / name).read_bytes(), name
    assert second["result"]["comparison_path"] == str(newest / "comparison.json")
    assert not (label / "runs" / first["id"] / "comparison.json").exists()
    assert sorted(p.name for p in label.iterdir()) == [
        "benchmark_results.json",
        "comparison.json",
        "items.jsonl",
        "runs",
    ]

    # the label folder's copy stands for its run: a comparison goes to that run's folder
    compared = await stack.evals.post(
        "/comparisons",
        json={"baseline": first["result"]["results_path"], "candidate": str(label)},
    )
    assert compared.status_code == 201, compared.text
    report = compared.json()
    assert report["path"] == str(newest / "comparison.json")
    assert report["candidate"]["run_id"] == second["id"] and report["n_common_items"] == 6
    assert json.loads((label / "comparison.json").read_text())["id"] == report["id"]

    # a third run of the label, without a comparison: the label's copy of the old one goes
    third = await stack.run({**body, "label": "same"})
    assert json.loads((label / "benchmark_results.json").read_text())["run_id"] == third["id"]
    assert not (label / "comparison.json").exists()
    assert (newest / "comparison.json").is_file()
    assert len(list((label / "runs").iterdir())) == 3
