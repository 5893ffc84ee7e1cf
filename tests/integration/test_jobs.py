"""Jobs end to end inside one process: real Redis (arq), a real database, a real arq worker."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from data_service.config import DataServiceSettings
from tutorlab.db import create_engine, session_factory
from tutorlab.jobs.models import aware
from tutorlab.jobs.queue import ArqJobQueue
from tutorlab.jobs.runtime import WorkerRuntime, execute
from tutorlab.jobs.store import JobStore

from tests.job_kinds import (
    WAIT_KINDS,
    data_worker_settings,
    wait_service_app,
    wait_worker_settings,
)
from tests.job_kinds import data_service_app as create_data_app
from tests.support import app_client, migrate, run_worker, unique

pytestmark = pytest.mark.integration


def data_settings(
    database_url: str, redis_url: str, mirror: Path, **extra: Any
) -> DataServiceSettings:
    return DataServiceSettings(
        database_url=database_url,
        redis_url=redis_url,
        queue_prefix=unique("q"),
        dataset_mirror=mirror,
        **extra,
    )


async def test_job_round_trip_through_real_queue_and_worker(
    database_url: str, redis_url: str, dataset_mirror: Path
) -> None:
    await migrate("data-service", database_url)
    settings = data_settings(database_url, redis_url, dataset_mirror)
    async with app_client(create_data_app(settings)) as client:
        response = await client.post(
            "/jobs", json={"kind": "count_rows", "params": {"dataset": "gsm8k", "split": "test"}}
        )
        assert response.status_code == 202, response.text
        job = response.json()
        assert response.headers["location"] == f"/jobs/{job['id']}"
        assert job["status"] == "queued"
        assert job["progress"] == {"done": 0, "total": None}

        await run_worker(data_worker_settings(settings))

        done = (await client.get(f"/jobs/{job['id']}")).json()
        assert done["status"] == "succeeded", done
        assert done["result"]["rows"] == 1319
        assert len(done["result"]["sha256"]) == 64
        assert done["progress"] == {"done": 1319, "total": 1319}
        assert done["attempts"] == 1
        assert done["started_at"] and done["finished_at"]


async def test_idempotent_repost_returns_the_same_job(
    database_url: str, redis_url: str, dataset_mirror: Path
) -> None:
    await migrate("data-service", database_url)
    settings = data_settings(database_url, redis_url, dataset_mirror)
    body = {"kind": "count_rows", "params": {"dataset": "math", "split": "test"}}
    async with app_client(create_data_app(settings)) as client:
        first = await client.post("/jobs", json=body, headers={"Idempotency-Key": "abc-1"})
        second = await client.post("/jobs", json=body, headers={"Idempotency-Key": "abc-1"})
        assert first.status_code == 202
        assert second.status_code == 200
        assert first.json()["id"] == second.json()["id"]
        other = dict(body, params={"dataset": "gsm8k", "split": "test"})
        conflict = await client.post("/jobs", json=other, headers={"Idempotency-Key": "abc-1"})
        assert conflict.status_code == 409
        assert "Idempotency-Key" in conflict.json()["error"]

        await run_worker(data_worker_settings(settings))
        jobs = (await client.get("/jobs")).json()
        assert len(jobs) == 1 and jobs[0]["status"] == "succeeded"
        assert jobs[0]["attempts"] == 1  # enqueued once, run once
        assert jobs[0]["result"]["rows"] == 5000


async def test_bad_job_input_is_a_422_naming_the_field(
    database_url: str, redis_url: str, dataset_mirror: Path
) -> None:
    await migrate("data-service", database_url)
    settings = data_settings(database_url, redis_url, dataset_mirror)
    async with app_client(create_data_app(settings)) as client:
        unknown = await client.post("/jobs", json={"kind": "nope", "params": {}})
        assert unknown.status_code == 422
        assert "kind" in unknown.json()["error"]
        bad = await client.post("/jobs", json={"kind": "count_rows", "params": {"dataset": "x"}})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["field"] == "params.dataset"
        missing = await client.get("/jobs/dat_doesnotexist")
        assert missing.status_code == 404


def wait_service(database_url: str, redis_url: str) -> tuple[Any, type]:
    settings = DataServiceSettings(
        database_url=database_url, redis_url=redis_url, queue_prefix=unique("q")
    )
    return wait_service_app(settings), wait_worker_settings(settings)


async def test_cancel_queued_and_running_jobs(database_url: str, redis_url: str) -> None:
    await migrate("data-service", database_url)
    app, worker_cls = wait_service(database_url, redis_url)
    async with app_client(app) as client:
        queued = (await client.post("/jobs", json={"kind": "wait", "params": {"steps": 5}})).json()
        cancelled = (await client.delete(f"/jobs/{queued['id']}")).json()
        assert cancelled["status"] == "cancelled"

        running = (
            await client.post("/jobs", json={"kind": "wait", "params": {"steps": 10_000}})
        ).json()
        worker_task = asyncio.create_task(run_worker(worker_cls))
        for _ in range(200):
            state = (await client.get(f"/jobs/{running['id']}")).json()
            if state["status"] == "running" and state["progress"]["done"] > 2:
                break
            await asyncio.sleep(0.05)
        assert state["status"] == "running"
        ack = (await client.delete(f"/jobs/{running['id']}")).json()
        assert ack["cancel_requested"] is True
        await asyncio.wait_for(worker_task, 30)
        final = (await client.get(f"/jobs/{running['id']}")).json()
        assert final["status"] == "cancelled"
        assert 0 < final["progress"]["done"] < 10_000
        # the queued-then-cancelled job never ran
        assert (await client.get(f"/jobs/{queued['id']}")).json()["attempts"] == 0


async def test_stale_running_job_is_taken_over_once(database_url: str, redis_url: str) -> None:
    """A worker that died mid-job (no heartbeat) loses the job to the next one, exactly once."""
    await migrate("data-service", database_url)
    engine = create_engine(database_url)
    store = JobStore(session_factory(engine), "w")
    job, _ = await store.create("wait", {"steps": 3})
    dead = await store.claim(job.id, "dead-worker", stale_after_s=30)
    assert dead is not None and dead.attempts == 1
    assert await store.claim(job.id, "other", stale_after_s=30) is None  # still fresh

    queue = ArqJobQueue(redis_url, unique("q"))
    runtime = WorkerRuntime(store, queue, WAIT_KINDS, heartbeat_s=0.05, stale_after_s=0.2)
    await asyncio.sleep(0.3)
    outcomes = await asyncio.gather(execute(runtime, job.id), execute(runtime, job.id))
    assert sorted(outcomes) == ["skipped", "succeeded"]
    final = await store.get(job.id)
    assert final is not None and final.status == "succeeded" and final.attempts == 2
    # the run's start is the first attempt's, kept through the takeover
    assert aware(final.started_at) == aware(dead.started_at) is not None
    await queue.close()
    await engine.dispose()


async def test_readyz_names_the_dependency_that_is_down(database_url: str, tmp_path: Path) -> None:
    await migrate("data-service", database_url)
    down_redis = DataServiceSettings(database_url=database_url, redis_url="redis://127.0.0.1:1/0")
    async with app_client(create_data_app(down_redis)) as client:
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["redis"].startswith("unreachable")
        assert "redis" in body["error"]

    down_db = DataServiceSettings(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
        redis_url="redis://localhost:6379/14",
    )
    async with app_client(create_data_app(down_db)) as client:
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["redis"] == "ok"
        assert "database" in response.json()["error"]


COUNT_GSM8K = {"kind": "count_rows", "params": {"dataset": "gsm8k", "split": "test"}}


async def data_service_settings(
    database_url: str, redis_url: str, mirror: Path
) -> DataServiceSettings:
    await migrate("data-service", database_url)
    return data_settings(database_url, redis_url, mirror)


async def test_long_poll_answers_when_the_job_finishes(
    database_url: str, redis_url: str, dataset_mirror: Path
) -> None:
    """``GET /jobs/{id}?wait_s=`` is held open until the worker announces the job finished."""
    settings = await data_service_settings(database_url, redis_url, dataset_mirror)
    async with app_client(create_data_app(settings)) as client:
        job = (await client.post("/jobs", json=COUNT_GSM8K)).json()
        waiting = asyncio.create_task(client.get(f"/jobs/{job['id']}", params={"wait_s": 30}))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "a long poll on a queued job must wait"
        await run_worker(data_worker_settings(settings))
        answer = await asyncio.wait_for(waiting, 10)
        assert answer.status_code == 200
        assert answer.json()["status"] == "succeeded"
        assert answer.json()["result"]["rows"] == 1319


async def test_long_poll_gives_the_current_status_when_time_is_up(
    database_url: str, redis_url: str, dataset_mirror: Path
) -> None:
    settings = await data_service_settings(database_url, redis_url, dataset_mirror)
    async with app_client(create_data_app(settings)) as client:
        job = (await client.post("/jobs", json=COUNT_GSM8K)).json()
        answer = await client.get(f"/jobs/{job['id']}", params={"wait_s": 0.3})
        assert answer.status_code == 200 and answer.json()["status"] == "queued"
        too_long = await client.get(f"/jobs/{job['id']}", params={"wait_s": 61})
        assert too_long.status_code == 422
        assert "wait_s" in too_long.text
        missing = await client.get("/jobs/nope", params={"wait_s": 1})
        assert missing.status_code == 404


async def test_an_idle_worker_is_woken_by_an_enqueue_not_its_poll(
    database_url: str, redis_url: str, dataset_mirror: Path
) -> None:
    """With a 60 s poll interval the job can only start within the test's 20 s if the enqueue's
    wake-up message reaches the worker."""
    settings = await data_service_settings(database_url, redis_url, dataset_mirror)
    worker = asyncio.create_task(
        run_worker(data_worker_settings(settings), burst=False, poll_delay=60)
    )
    try:
        await asyncio.sleep(1.0)  # the worker has polled once and now waits for a wake-up
        body = {"kind": "count_rows", "params": {"dataset": "math", "split": "test"}}
        async with app_client(create_data_app(settings)) as client:
            job = (await client.post("/jobs", json=body)).json()
            answer = await client.get(f"/jobs/{job['id']}", params={"wait_s": 20})
        assert answer.json()["status"] == "succeeded", answer.json()
        assert answer.json()["result"]["rows"] == 5000
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
