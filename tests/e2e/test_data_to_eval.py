"""The loop's first two steps joined: the data-service imports and tags GSM8K, and a benchmark
then reads its items (checksum and topic tags) from the data-service over REST."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from tutorlab.dev.devstack import Stack

pytestmark = pytest.mark.e2e


def wait(client: httpx.Client, path: str, timeout_s: float = 180) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = client.get(path).json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"{path} did not finish: {body}")


def test_benchmark_reads_imported_and_tagged_dataset_from_data_service(
    stack: Stack, tutor: httpx.Client, evals: httpx.Client
) -> None:
    with httpx.Client(base_url=stack.url("data-service"), timeout=60) as data:
        job = data.post("/datasets/download", json={"name": "gsm8k", "source": "mirror"})
        assert job.status_code == 202, job.text
        assert wait(data, job.headers["location"])["status"] == "succeeded"
        card = data.get("/datasets/gsm8k/test").json()
        version = card["current"]
        assert version["rows"] == 1319
        tagged = data.post(
            "/jobs", json={"kind": "tag_dataset", "params": {"name": "gsm8k", "split": "test"}}
        )
        assert tagged.status_code == 202, tagged.text
        assert wait(data, tagged.headers["location"])["status"] == "succeeded"

    tutor.post(
        "/models",
        json={
            "name": "sim-data",
            "kind": "openai",
            "base_url": stack.url("simulator") + "/v1",
            "model": "qwen3:8b",
            "max_concurrency": 32,
        },
    ).raise_for_status()
    run = evals.post("/benchmarks", json={"model": "sim-data", "tasks": ["gsm8k"], "limit": 60})
    assert run.status_code == 202, run.text
    done = wait(evals, run.headers["location"])
    assert done["status"] == "succeeded", done.get("error")
    results = json.loads(Path(done["result"]["results_path"]).read_text())
    # the eval read the data-service's version of the dataset, not the mirror file
    assert results["dataset_checksums"]["gsm8k/test"] == version["sha256"]
    topics = results["breakdowns"]["gsm8k"]["topic"]
    assert topics, "GSM8K accuracy by topic tag comes from the data-service's tags"
    assert sum(group["accuracy"]["n"] for group in topics.values()) >= 60
