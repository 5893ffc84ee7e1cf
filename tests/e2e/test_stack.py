"""The whole stack as real processes: register the simulator, chat in each mode, run a job, and
two workers on one queue sharing jobs with none run twice (data-service and its workers run
with the test-only ``count_rows`` kind for that)."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from tutorlab.dev.devstack import WORKERS, Stack

from tests.conftest import REPO_ROOT
from tests.e2e.conftest import make_stack
from tests.e2e.with_count_rows import COMMANDS

pytestmark = pytest.mark.e2e


def wait_job(client: httpx.Client, path: str, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(path).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"{path} not finished after {timeout_s} s: {job}")


def test_register_chat_in_every_mode_and_job_round_trip(stack: Stack, tutor: httpx.Client) -> None:
    for kind, base in (
        ("ollama", stack.url("simulator")),
        ("openai", stack.url("simulator") + "/v1"),
    ):
        created = tutor.post(
            "/models",
            json={"name": f"sim-{kind}", "kind": kind, "base_url": base, "model": "qwen3:8b"},
        )
        assert created.status_code == 201, created.text
        probe = tutor.post(f"/models/sim-{kind}/probe").json()
        assert probe["ok"] and probe["reachable"], probe
        for mode in ("hint", "explain", "check", "solve"):
            reply = tutor.post(
                "/chat",
                json={
                    "message": "What is 12 + 30?",
                    "mode": mode,
                    "grade": 4,
                    "model": f"sim-{kind}",
                },
            )
            assert reply.status_code == 200, reply.text
            body = reply.json()
            assert body["reply"] and body["mode"] == mode and body["model"] == f"sim-{kind}"
            assert body["prompt_version"].startswith("tutor-policy/")
            assert body["usage"]["total_tokens"] > 0

    with httpx.Client(base_url=stack.url("trainer-service"), timeout=30) as trainer:
        refused = trainer.post(
            "/trainings",
            content=b"model:\n  base_model: qwen3:8b\ntraining:\n  num_epochs: many\n",
            headers={"content-type": "application/yaml"},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0] == {
            "field": "training.num_epochs",
            "loc": ["training", "num_epochs"],
            "line": 4,
            "msg": refused.json()["detail"][0]["msg"],
            "type": "config",
        }


def test_every_worker_passes_its_health_check(stack: Stack) -> None:
    """``<pkg>.worker_probe --alive`` and ``--check`` (the compose/k8s probes) succeed for each
    running worker."""
    deadline = time.monotonic() + 30
    for target, probe in itertools.product(WORKERS.values(), ("--alive", "--check")):
        while True:
            check = subprocess.run(
                [sys.executable, "-m", f"{target}_probe", probe],
                env=stack.environment(),
                capture_output=True,
                text=True,
                timeout=60,
            )
            if check.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert check.returncode == 0, f"{target} {probe}: {check.stdout} {check.stderr}"


def test_two_workers_share_one_queue_and_run_each_job_once(
    tmp_path: Path, dataset_mirror: Path
) -> None:
    workers = {"eval-worker": 0, "data-worker": 2, "trainer-worker": 0}
    # one job at a time per worker, the jobs sent at once: while one worker runs a job the
    # other takes the next (with more slots, the first worker to wake could take them all)
    env = {"DATA_SERVICE_WORKER_MAX_JOBS": "1", "PYTHONPATH": str(REPO_ROOT)}
    with (
        make_stack(tmp_path, dataset_mirror, workers=workers, env=env, commands=COMMANDS) as stack,
        httpx.Client(base_url=stack.url("data-service"), timeout=30) as data,
    ):
        # both workers listen before the jobs come (on a slow machine one can still be
        # importing while the other has run every job)
        _wait_until_ready(stack, ("data-worker", "data-worker-1"))

        def submit(i: int) -> str:
            split = "test" if i % 2 else "train"
            response = data.post(
                "/jobs", json={"kind": "count_rows", "params": {"dataset": "math", "split": split}}
            )
            assert response.status_code == 202
            return str(response.json()["id"])

        with ThreadPoolExecutor(max_workers=12) as pool:
            ids = list(pool.map(submit, range(12)))
        finished = [wait_job(data, f"/jobs/{job_id}") for job_id in ids]
        assert all(job["status"] == "succeeded" for job in finished)
        assert all(job["attempts"] == 1 for job in finished), [j["attempts"] for j in finished]
        owners = {job_id: _owner(stack, job_id) for job_id in ids}
        assert len(set(owners.values())) == 2, f"one worker took every job: {owners}"


def _wait_until_ready(stack: Stack, names: tuple[str, ...], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    for name in names:
        log = stack.root / "logs" / f"{name}.log"
        while not (log.exists() and "worker ready on queue" in log.read_text()):
            assert time.monotonic() < deadline, f"{name} not ready after {timeout_s} s"
            time.sleep(0.2)


def _owner(stack: Stack, job_id: str) -> str:
    """Which worker process ran the job, from the workers' logs."""
    for name in ("data-worker", "data-worker-1"):
        log = (stack.root / "logs" / f"{name}.log").read_text()
        if f"job {job_id} (count_rows) started" in log:
            return name
    raise AssertionError(f"no worker log mentions {job_id}")
