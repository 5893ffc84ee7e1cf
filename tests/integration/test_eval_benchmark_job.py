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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from eval_service.app import create_app as create_eval_app
from eval_service.config import EvalServiceSettings
from eval_service.worker import worker_settings
from tutor_api.app import create_app as create_tutor_app
from tutor_api.config import TutorApiSettings
from tutorlab_sim import SimConfig
from tutorlab_sim import create_app as create_sim_app

from tests.support import app_client, migrate, run_worker, unique

pytestmark = pytest.mark.integration

TUTOR_URL = "http://tutor.test"
MODEL = "sim"
TERMINAL = ("succeeded", "failed", "cancelled")


@dataclass
class EvalStack:
    evals: httpx.AsyncClient
    sim: httpx.AsyncClient
    settings: EvalServiceSettings
    tutor_transport: httpx.AsyncBaseTransport
    sim_transport: httpx.AsyncBaseTransport

    def worker(self, **overrides: Any) -> type:
        """The eval worker's settings, its edges mounted in process (``overrides``: settings)."""
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        return worker_settings(
            settings,
            registry_transport=self.tutor_transport,
            model_transport=self.sim_transport,
        )

    async def submit(self, body: dict[str, Any]) -> str:
        response = await self.evals.post("/benchmarks", json=body)
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    async def run(self, body: dict[str, Any]) -> dict[str, Any]:
        """Submit, run a worker until the queue is empty, return the finished run."""
        run_id = await self.submit(body)
        await run_worker(self.worker())
        return await self.get(run_id)

    async def get(self, run_id: str) -> dict[str, Any]:
        response = await self.evals.get(f"/benchmarks/{run_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def wait_for(self, run_id: str, done_at_least: int) -> dict[str, Any]:
        """Poll until ``done_at_least`` items are stored (or the run ended)."""
        for _ in range(600):
            run = await self.get(run_id)
            if run["status"] in TERMINAL or run["progress"]["done"] >= done_at_least:
                return run
            await asyncio.sleep(0.05)
        raise AssertionError(f"run {run_id} never reached {done_at_least} items: {run}")

    async def items(self, run_id: str) -> list[dict[str, Any]]:
        response = await self.evals.get(f"/benchmarks/{run_id}/items", params={"limit": 1000})
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def sim_config(self, **fields: Any) -> None:
        response = await self.sim.put("/sim/config", json=fields)
        assert response.status_code == 200, response.text

    async def sim_requests(self) -> int:
        stats = (await self.sim.get("/sim/stats")).json()
        return int(stats["by_endpoint"].get("POST /api/chat", 0))


@pytest.fixture
async def stack(redis_url: str, dataset_mirror: Path, tmp_path: Path) -> AsyncIterator[EvalStack]:
    eval_db = f"sqlite+aiosqlite:///{tmp_path / 'eval.db'}"
    tutor_db = f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"
    await migrate("eval-service", eval_db)
    await migrate("tutor-api", tutor_db)
    settings = EvalServiceSettings(
        database_url=eval_db,
        redis_url=redis_url,
        queue_prefix=unique("q"),
        dataset_mirror=dataset_mirror,
        data_dir=tmp_path,
        outputs_dir=tmp_path / "outputs",
        tutor_api_url=TUTOR_URL,
        use_data_service=False,
        math_verify_workers=1,
        # a worker that died mid-run loses its job quickly
        job_heartbeat_s=0.2,
        job_stale_after_s=1.0,
    )
    sim_app = create_sim_app(SimConfig(dataset_mirror=dataset_mirror, accuracy=1.0, seed=2))
    tutor_app = create_tutor_app(TutorApiSettings(database_url=tutor_db))
    tutor_transport = httpx.ASGITransport(app=tutor_app)
    sim_transport = httpx.ASGITransport(app=sim_app)
    eval_app = create_eval_app(settings, registry_transport=tutor_transport)
    async with (
        app_client(tutor_app) as tutor,
        app_client(eval_app) as evals,
        httpx.AsyncClient(transport=sim_transport, base_url="http://sim.test") as sim,
    ):
        registered = await tutor.post(
            "/models",
            json={
                "name": MODEL,
                "kind": "ollama",
                "base_url": "http://sim.test",
                "model": "qwen3:8b",
                "max_concurrency": 8,
            },
        )
        assert registered.status_code == 201, registered.text
        yield EvalStack(evals, sim, settings, tutor_transport, sim_transport)


def results_of(run: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(Path(run["result"]["results_path"]).read_text()))


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
    # the first attempt is stopped after 2 s (at least 240 / 4 × 40 ms = 2.4 s of requests):
    # arq cancels it, its job stays "running" with a heartbeat that goes stale, as when a
    # worker is killed
    await run_worker(stack.worker(job_timeout_s=2))
    died = await stack.get(run_id)
    assert died["status"] == "running" and died["attempts"] == 1, died
    stored_at_death = len(await stack.items(run_id))
    assert 0 < stored_at_death < planned

    await asyncio.sleep(stack.settings.job_stale_after_s + 0.2)
    # a new worker's reconcile (at start-up) takes the stale job over; it runs what is left
    await run_worker(stack.worker())
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
    # the second attempt asked only for what was not stored (the repeats: replies in flight
    # or not yet stored when the first stopped)
    repeated = await stack.sim_requests() - planned
    assert 0 <= repeated < stored_at_death
