"""Workers under faults, as real processes: a SIGKILLed worker's job is taken over by another
within the documented bound, and a worker outlives a Redis restart (a real ``redis-server`` of the
test's own) and runs the jobs submitted while Redis was down once it is back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from arq import create_pool
from arq.worker import Worker, get_kwargs
from data_service.config import DataServiceSettings
from eval_service.config import EvalServiceSettings
from tutorlab.db import create_engine, session_factory
from tutorlab.dev.devstack import SERVICES, Stack, free_port, free_ports
from tutorlab.jobs.arq_worker import build_worker_settings, create_worker
from tutorlab.jobs.models import Job
from tutorlab.jobs.queue import ArqJobQueue, redis_settings
from tutorlab.jobs.store import JobStore
from tutorlab.worker_health import check_alive, check_ready

from tests.job_kinds import WAIT_PREFIX, wait_service_app, wait_worker_settings
from tests.support import app_client, migrate, run_worker, unique

pytestmark = pytest.mark.integration

WORKER_MODULE = ["-m", "tests.integration.wait_worker"]
#: small lease and reconcile figures, so the behaviour shows in seconds
STALE_AFTER_S, HEARTBEAT_S, RECONCILE_EVERY_S = 3.0, 0.5, 1


async def test_each_service_reconciles_at_every_tick(redis_url: str) -> None:
    """Two services on one Redis: arq keys a cron's run by its name and tick, so with one name
    for every service's reconcile only the first service to enqueue a tick ran it."""
    prefix = unique("q")
    services = [
        settings_cls(redis_url=redis_url, queue_prefix=prefix)
        for settings_cls in (DataServiceSettings, EvalServiceSettings)
    ]
    worker_classes = [build_worker_settings(settings, {}, "x") for settings in services]
    names = {cls.cron_jobs[0].name for cls in worker_classes}  # type: ignore[attr-defined]
    assert len(names) == 2, names

    pool = await create_pool(redis_settings(redis_url))
    try:
        # the same tick for both, a minute ahead: enqueued (deferred), not run
        when = datetime.now(tz=UTC) + timedelta(seconds=60)
        for cls in worker_classes:
            options: dict[str, Any] = dict(get_kwargs(cls))  # arq's, not ours (alive_file)
            worker = Worker(redis_pool=pool, handle_signals=False, **options)
            await worker.run_cron(when, 0.5)
        for settings in services:
            queued = await pool.zrange(settings.queue_name, 0, -1)
            assert len(queued) == 1, (settings.queue_name, queued)
            assert settings.queue_name in queued[0].decode()
    finally:
        for settings in services:
            for job_id in await pool.zrange(settings.queue_name, 0, -1):
                await pool.delete(f"arq:job:{job_id.decode()}")
            await pool.delete(settings.queue_name)
        await pool.aclose()


@contextmanager
def worker_stack(
    root: Path, database_url: str, redis_url: str, prefix: str, **env: str
) -> Iterator[Stack]:
    """A stack for worker processes only (no services): see :func:`start_workers`. An
    eval-service worker's database is ``EVAL_SERVICE_DATABASE_URL``."""
    lease = {
        f"{service}_{name}": str(value)
        for service in ("DATA_SERVICE", "EVAL_SERVICE")
        for name, value in (
            ("JOB_STALE_AFTER_S", STALE_AFTER_S),
            ("JOB_HEARTBEAT_S", HEARTBEAT_S),
            ("JOB_RECONCILE_EVERY_S", RECONCILE_EVERY_S),
        )
    }
    stack = Stack(
        root=root,
        redis_url=redis_url,
        ports=free_ports([*SERVICES, "simulator"]),
        env={
            "DATA_SERVICE_DATABASE_URL": database_url,
            "TUTORLAB_QUEUE_PREFIX": prefix,
            **lease,
            **env,
        },
    )
    try:
        yield stack
    finally:
        stack.stop()


def log_of(stack: Stack, key: str) -> str:
    path = stack.root / "logs" / f"{key}.log"
    return path.read_text(errors="replace") if path.exists() else ""


async def until(
    what: str, check: Callable[[], Any], timeout_s: float, every_s: float = 0.05
) -> Any:
    """Call ``check`` (sync or async) until it returns something truthy; fail after timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        await asyncio.sleep(every_s)


async def start_workers(stack: Stack, *services: str, **env: str) -> list[str]:
    """Start a ``wait`` worker per service named (all at once), return when each is ready."""
    keys = []
    for service in services:
        worker_env = {**stack.environment(), "WAIT_WORKER_SERVICE": service, **env}
        index = len(stack.procs)
        keys.append(stack.start_worker(service, WORKER_MODULE[1], index, worker_env))
    for key in keys:

        def started(key: str = key) -> bool:
            return (
                "worker ready on queue" in log_of(stack, key) or stack.procs[key].poll() is not None
            )

        await until(f"{key} to start", started, 60, 0.2)
        assert stack.procs[key].poll() is None, log_of(stack, key)
    return keys


def pid_of(job: Job) -> int:
    assert job.worker_id is not None
    return int(job.worker_id.split(":")[-2])  # host:pid:random


def lease_settings(database_url: str, redis_url: str) -> DataServiceSettings:
    return DataServiceSettings(
        database_url=database_url,
        redis_url=redis_url,
        queue_prefix=unique("q"),
        job_stale_after_s=STALE_AFTER_S,
        job_heartbeat_s=HEARTBEAT_S,
        job_reconcile_every_s=RECONCILE_EVERY_S,
    )


@asynccontextmanager
async def job_store(database_url: str) -> AsyncIterator[JobStore]:
    engine = create_engine(database_url)
    try:
        yield JobStore(session_factory(engine), WAIT_PREFIX)
    finally:
        await engine.dispose()


async def test_sigkilled_workers_job_runs_again_within_the_bound(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    """Two workers; the one running the job is SIGKILLed; the other runs it within
    ``job_stale_after_s + job_reconcile_every_s`` (+1 s): the figure is printed. A second
    service's worker shares the Redis, as in a deployment (before, the two services' reconciles
    had one arq id per tick, and only one of them ran)."""
    await migrate("data-service", database_url)
    other_database = f"sqlite+aiosqlite:///{tmp_path / 'eval.db'}"
    await migrate("data-service", other_database)  # a jobs table for the other service
    settings = lease_settings(database_url, redis_url)
    with worker_stack(
        tmp_path,
        database_url,
        redis_url,
        settings.queue_prefix,
        EVAL_SERVICE_DATABASE_URL=other_database,
    ) as stack:
        *keys, _ = await start_workers(stack, "data-service", "data-service", "eval-service")
        async with (
            app_client(wait_service_app(settings)) as client,
            job_store(database_url) as store,
        ):
            submitted = await client.post("/jobs", json={"kind": "wait", "params": {"steps": 100}})
            assert submitted.status_code == 202, submitted.text
            job_id = submitted.json()["id"]

            async def running_with_progress() -> Job | None:
                job = await store.get(job_id)
                return job if job and job.status == "running" and job.progress_done > 5 else None

            first = await until("the job to run", running_with_progress, 30)
            owner = next(key for key in keys if stack.procs[key].pid == pid_of(first))
            killed_at = time.monotonic()
            stack.kill(owner)

            async def taken_over() -> Job | None:
                job = await store.get(job_id)
                return job if job and job.attempts >= 2 and job.status != "queued" else None

            bound = settings.job_takeover_within_s
            second = await until("the takeover", taken_over, bound + 30)
            took_s = time.monotonic() - killed_at
            print(
                f"\ntakeover on {database_url.split(':')[0]}: running again {took_s:.1f} s after "
                f"the SIGKILL (documented bound {bound:.0f} s = stale {STALE_AFTER_S:.0f} s + "
                f"reconcile every {RECONCILE_EVERY_S} s + 1 s)"
            )
            assert second.worker_id != first.worker_id
            assert pid_of(second) == stack.procs[next(k for k in keys if k != owner)].pid
            assert took_s <= bound + 15, f"takeover took {took_s:.1f} s (bound {bound:.0f} s)"

            done = (await client.get(f"/jobs/{job_id}", params={"wait_s": 30})).json()
            assert done["status"] == "succeeded", done
            assert done["attempts"] == 2 and done["result"] == {"steps": 100}


async def test_a_pickup_that_died_before_its_claim_runs_again_within_the_bound(
    database_url: str, redis_url: str
) -> None:
    """arq marks a job in progress (``arq:in-progress:<id>``, for ``job_timeout_s`` + 10 s: a
    day) when a worker picks it up, before the worker claims it in the database. A worker
    killed in between left the job queued, and every worker skipped it for that day (reconcile
    re-offered the same arq id, which arq refused). The marks are set here as such a worker
    leaves them, for a queued job and for the takeover of a running one whose worker died; a
    live worker runs both within ``job_takeover_within_s`` of the pick-up."""
    await migrate("data-service", database_url)
    settings = lease_settings(database_url, redis_url)
    worker_settings = wait_worker_settings(settings)
    mark_ms = int(create_worker(worker_settings, handle_signals=False).in_progress_timeout_s * 1000)
    worker = asyncio.create_task(run_worker(worker_settings, burst=False))
    pool = await create_pool(redis_settings(redis_url))
    queue = ArqJobQueue(redis_url, settings.queue_name)
    try:
        async with job_store(database_url) as store:

            async def reported() -> bool:
                return (await check_ready(settings))[0]

            await until("the worker to report", reported, 30)
            queued, _ = await store.create("wait", {"steps": 5})
            running, _ = await store.create("wait", {"steps": 5})
            assert await store.claim(running.id, "gone:1:dead", STALE_AFTER_S)
            # what a worker killed between pick-up and claim leaves: arq's mark and try count,
            # then the job in arq's queue (marked first, so the live worker skips it, as then)
            picked_up_at = time.monotonic()
            arq_ids = {queued.id: queued.id, running.id: f"{running.id}:takeover:1"}
            for arq_id in arq_ids.values():
                await pool.psetex(f"arq:in-progress:{arq_id}", mark_ms, b"1")
                await pool.set(f"arq:retry:{arq_id}", 1, ex=88400)
            for job_id, arq_id in arq_ids.items():
                assert await queue.enqueue(job_id, arq_job_id=arq_id)

            bound = settings.job_takeover_within_s
            for job_id, attempts in ((queued.id, 1), (running.id, 2)):

                async def runs(job_id: str = job_id, attempts: int = attempts) -> bool:
                    job = await store.get(job_id)
                    return job is not None and job.attempts == attempts

                await until(f"job {job_id} to run", runs, bound + 15)
                took_s = time.monotonic() - picked_up_at
                print(
                    f"\n{'queued' if attempts == 1 else 'taken over'} job whose pick-up died "
                    f"before its claim: running {took_s:.1f} s after the pick-up (documented "
                    f"bound {bound:.0f} s)"
                )
                assert took_s <= bound + 15, f"took {took_s:.1f} s (bound {bound:.0f} s)"

            for job_id, attempts in ((queued.id, 1), (running.id, 2)):
                done = await until(f"job {job_id} to end", partial(finished, store, job_id), 30)
                assert (done.status, done.attempts) == ("succeeded", attempts), done
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await queue.close()
        await pool.aclose()


async def finished(store: JobStore, job_id: str) -> Job | None:
    job = await store.get(job_id)
    return job if job is not None and job.status in ("succeeded", "failed") else None


async def test_a_live_workers_pickup_is_left_alone(redis_url: str) -> None:
    """Only a pick-up older than the lease is released: a worker that picked a job up just now
    is claiming it."""
    queue = ArqJobQueue(redis_url, unique("q"))
    pool = await create_pool(redis_settings(redis_url))
    arq_id = unique("job")
    try:
        release = {"picked_up_before_s": STALE_AFTER_S, "in_progress_ttl_s": 3600.0}
        assert not await queue.release_stale_pickup(arq_id, **release)  # no mark
        await pool.psetex(f"arq:in-progress:{arq_id}", 3600_000, b"1")
        assert not await queue.release_stale_pickup(arq_id, **release)  # just picked up
        assert await pool.exists(f"arq:in-progress:{arq_id}")
        await pool.psetex(f"arq:in-progress:{arq_id}", int((3600 - STALE_AFTER_S) * 1000), b"1")
        assert await queue.release_stale_pickup(arq_id, **release)
        assert not await pool.exists(f"arq:in-progress:{arq_id}")
    finally:
        await pool.delete(f"arq:in-progress:{arq_id}")
        await pool.aclose()
        await queue.close()


async def test_a_worker_sigkilled_between_pickup_and_claim_leaves_no_job_stuck(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    """A real worker process SIGKILLs itself when arq hands it the job (a test hook: after
    arq's in-progress mark, before the claim). Another worker runs the job, once."""
    await migrate("data-service", database_url)
    settings = lease_settings(database_url, redis_url)
    with worker_stack(tmp_path, database_url, redis_url, settings.queue_prefix) as stack:
        [dying] = await start_workers(stack, "data-service", WAIT_WORKER_DIES_AT_PICKUP="1")
        async with (
            app_client(wait_service_app(settings)) as client,
            job_store(database_url) as store,
        ):
            job_id = (
                await client.post("/jobs", json={"kind": "wait", "params": {"steps": 5}})
            ).json()["id"]
            await until("the worker to die at the pick-up", lambda: stack.procs[dying].poll(), 30)
            died_at = time.monotonic()
            assert stack.procs[dying].returncode == -signal.SIGKILL
            job = await store.get(job_id)
            assert job is not None and (job.status, job.attempts) == ("queued", 0)
            redis = await create_pool(redis_settings(redis_url))
            try:
                assert await redis.exists(f"arq:in-progress:{job_id}")  # the window, reproduced
            finally:
                await redis.aclose()

            await start_workers(stack, "data-service")
            ready_at = time.monotonic()
            bound = settings.job_takeover_within_s
            done = await until("the job to run", partial(finished, store, job_id), bound + 15)
            print(
                f"\njob whose worker was SIGKILLed between pick-up and claim: succeeded "
                f"{time.monotonic() - died_at:.1f} s after the kill, "
                f"{time.monotonic() - ready_at:.1f} s after a live worker was ready"
            )
            assert (done.status, done.attempts) == ("succeeded", 1), done


class RedisServer:
    """A ``redis-server`` of the test's own on ``port``, without persistence: a restart loses
    every key, as a Redis without a volume does."""

    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*argv, "--save", "", "--appendonly", "no"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while not self.answers():
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def answers(self) -> bool:
        ping = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
        )
        return ping.stdout.strip() == b"PONG"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def worker_probe(stack: Stack, probe: str) -> subprocess.CompletedProcess[str]:
    """``--alive`` or ``--check``, as a container's probe runs it."""
    return subprocess.run(
        [sys.executable, *WORKER_MODULE, probe],
        env=stack.environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_worker_outlives_a_redis_restart_and_runs_what_was_submitted_meanwhile(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'data.db'}"
    await migrate("data-service", database_url)
    prefix = unique("q")
    settings = DataServiceSettings(
        database_url=database_url, redis_url=own_redis.url, queue_prefix=prefix
    )
    wait_job: dict[str, Any] = {"kind": "wait", "params": {"steps": 5}}
    # alive while its loop turned within 3 s: the outage below lasts longer
    alive_env = {
        "DATA_SERVICE_WORKER_ALIVE_FILE": str(tmp_path / "worker.alive"),
        "DATA_SERVICE_WORKER_ALIVE_WITHIN_S": "3",
    }
    with worker_stack(tmp_path, database_url, own_redis.url, prefix, **alive_env) as stack:
        [key] = await start_workers(stack, "data-service")
        worker = stack.procs[key]
        async with app_client(wait_service_app(settings)) as client:

            async def has_status(job_id: str, wanted: str) -> bool:
                return bool((await client.get(f"/jobs/{job_id}")).json()["status"] == wanted)

            before = (await client.post("/jobs", json=wait_job)).json()
            answer = await client.get(f"/jobs/{before['id']}", params={"wait_s": 30})
            assert answer.json()["status"] == "succeeded", answer.json()
            assert (await check_ready(settings))[0]

            # a job running when Redis goes: its lease is in the database, it finishes
            running = (
                await client.post("/jobs", json={"kind": "wait", "params": {"steps": 100}})
            ).json()
            await until("the job to run", lambda: has_status(running["id"], "running"), 30)
            await asyncio.to_thread(own_redis.stop)
            down_at = time.monotonic()

            # submitted while Redis is down: saved, not enqueued
            meanwhile = await client.post("/jobs", json=wait_job)
            assert meanwhile.status_code == 202, meanwhile.text
            await until(
                "the running job to end", lambda: has_status(running["id"], "succeeded"), 30
            )
            # the worker has been failing to reach Redis for a few of its retries
            await asyncio.sleep(max(0.0, 4.0 - (time.monotonic() - down_at)))
            assert worker.poll() is None, f"the worker exited:\n{log_of(stack, key)}"
            # its probes, as a container runs them: not ready, but alive (its loop turns while
            # it waits for Redis: an orchestrator must not restart it)
            check = await asyncio.to_thread(worker_probe, stack, "--check")
            assert check.returncode == 1, check.stdout
            assert check.stderr.startswith("not ready: Redis unreachable"), check.stderr
            alive = await asyncio.to_thread(worker_probe, stack, "--alive")
            assert alive.returncode == 0, alive.stderr
            assert alive.stdout.startswith("alive: "), alive.stdout
            assert time.monotonic() - down_at > 4  # longer than the liveness limit
            assert await has_status(meanwhile.json()["id"], "queued")

            await asyncio.to_thread(own_redis.start)  # empty: every arq key is gone
            back_at = time.monotonic()
            await until(
                "the job submitted meanwhile to run",
                lambda: has_status(meanwhile.json()["id"], "succeeded"),
                30,
                0.1,
            )
            print(
                f"\nRedis down {back_at - down_at:.1f} s; the job submitted meanwhile "
                f"succeeded {time.monotonic() - back_at:.1f} s after Redis was back"
            )
            assert worker.poll() is None and stack.procs[key] is worker  # never restarted

            async def ready() -> str | None:
                ok, report = await check_ready(settings)
                return report if ok else None

            report = await until("the worker to report ready", ready, 30, 0.2)
            assert report.startswith("ready: "), report

            after = (await client.post("/jobs", json=wait_job)).json()
            answer = await client.get(f"/jobs/{after['id']}", params={"wait_s": 30})
            assert answer.json()["status"] == "succeeded", answer.json()
            jobs = (await client.get("/jobs", params={"limit": 10})).json()
            assert len(jobs) == 4 and all(job["attempts"] == 1 for job in jobs), jobs


async def test_a_worker_started_while_redis_is_down_waits_for_it(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'data.db'}"
    await migrate("data-service", database_url)
    settings = DataServiceSettings(
        database_url=database_url, redis_url=own_redis.url, queue_prefix=unique("q")
    )
    await asyncio.to_thread(own_redis.stop)
    worker = asyncio.create_task(run_worker(wait_worker_settings(settings), burst=False))
    try:
        async with app_client(wait_service_app(settings)) as client:
            job = (await client.post("/jobs", json={"kind": "wait", "params": {"steps": 5}})).json()
            await asyncio.sleep(2.0)  # a few tries at Redis
            assert not worker.done(), worker.exception()
            ready, report = await check_ready(settings)
            assert not ready and report.startswith("not ready: Redis unreachable"), report
            alive, report = check_alive(settings)  # starting: waiting for Redis is no hang
            assert alive, report

            await asyncio.to_thread(own_redis.start)
            answer = await client.get(f"/jobs/{job['id']}", params={"wait_s": 30})
            assert answer.json()["status"] == "succeeded", answer.json()
            assert (await check_ready(settings))[0]
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


async def test_liveness_follows_the_workers_loop(redis_url: str, tmp_path: Path) -> None:
    """``--alive`` reads the age of the file the worker's loop touches: no file before a worker
    started, alive while its loop turns, not alive once the loop stopped for longer than
    ``worker_alive_within_s`` (a SIGSTOPped process: what a wedged one looks like from outside),
    alive again when it turns; a worker that stops removes the file."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'data.db'}"
    await migrate("data-service", database_url)
    alive_file = tmp_path / "worker.alive"
    env = {
        "DATA_SERVICE_WORKER_ALIVE_FILE": str(alive_file),
        "DATA_SERVICE_WORKER_ALIVE_WITHIN_S": "3",
    }
    with worker_stack(tmp_path, database_url, redis_url, unique("q"), **env) as stack:

        async def probe(expect: int) -> subprocess.CompletedProcess[str] | None:
            result = await asyncio.to_thread(worker_probe, stack, "--alive")
            return result if result.returncode == expect else None

        before = await probe(1)
        assert before is not None and "no worker loop has turned here" in before.stderr

        [key] = await start_workers(stack, "data-service")
        alive = await until("the probe to find the worker alive", partial(probe, 0), 30, 0.5)
        assert alive.stdout.startswith("alive: the worker's loop turned"), alive.stdout

        pid = stack.procs[key].pid
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(4.0)
            stuck = await probe(1)
            assert stuck is not None, "alive while the worker was stopped"
            assert stuck.stderr.startswith("not alive: the worker's loop last turned"), stuck.stderr
        finally:
            os.kill(pid, signal.SIGCONT)
        await until("the worker to be alive again", partial(probe, 0), 30, 0.5)

        stack.stop()
        assert not alive_file.exists()
