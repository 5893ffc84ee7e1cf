"""End-to-end fixtures: every service, worker and the simulator as real processes on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tutorlab.dev.devstack import SERVICES, Stack, free_ports

from tests.conftest import DEFAULT_TOKENIZER
from tests.support import REDIS_URL, unique


def make_stack(root: Path, mirror: Path, **kwargs: object) -> Stack:
    ports = free_ports([*SERVICES, "simulator"])
    env = {
        "TUTORLAB_QUEUE_PREFIX": unique("e2e"),
        # a killed worker's job is taken over quickly in tests
        "EVAL_SERVICE_JOB_STALE_AFTER_S": "3",
        "EVAL_SERVICE_JOB_HEARTBEAT_S": "0.5",
        "TRAINER_SERVICE_JOB_STALE_AFTER_S": "3",
        "TRAINER_SERVICE_JOB_HEARTBEAT_S": "0.5",
        # the chat template's tokenizer, offline: the team's copy of Qwen3's files
        "TRAINER_SERVICE_TOKENIZER_DIR": str(DEFAULT_TOKENIZER),
        **kwargs.pop("env", {}),  # type: ignore[dict-item]
    }
    return Stack(
        root=root,
        redis_url=REDIS_URL,
        dataset_mirror=mirror,
        ports=ports,
        env=env,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, dataset_mirror: Path) -> Iterator[Stack]:
    running = make_stack(tmp_path_factory.mktemp("stack"), dataset_mirror).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def tutor(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url("tutor-api"), timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def evals(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url("eval-service"), timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def sim(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url("simulator"), timeout=30) as client:
        yield client
