"""A custom task whose dataset is a Hugging Face hub repo (``dataset: {hub: org/name}``), end to
end on the in-process eval stack: the repo is a tiny hand-written one served by the local
stand-in for the hub's file layout (``tests/hub_standin.py``); registering the task loads it
through ``datasets`` into the cache under the data directory, a run scores it against the
simulator and records the rows' checksum and the commit; offline, the cached repo still
registers and runs, and a repo that is not cached is a 422 naming ``dataset.hub``."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from eval_service.hub_dataset import rows_sha256
from tutorlab.dev.devstack import free_port

from tests.hub_standin import REVISION, hub_online, hub_standin, write_repo
from tests.integration.eval_support import MODEL, EvalStack, eval_stack, results_of

pytestmark = pytest.mark.integration

YAML = {"content-type": "application/yaml"}

#: hand-written problems the simulator works out itself (plain arithmetic)
ROWS = [
    {"uid": "add", "problem": "What is 12 + 30?", "solution": "42", "level": 1},
    {"uid": "mul", "problem": "What is 7 * 6?", "solution": "42", "level": 1},
    {"uid": "bags", "problem": "What is (3 * 4) - 2?", "solution": "10", "level": 2},
    {"uid": "sub", "problem": "What is 100 - 58?", "solution": "42", "level": 1},
]

TASK_FILE = """\
name: arith-hub
version: "1"
description: our arithmetic set, kept on the hub
dataset:
  hub: acme/arith
  config: easy
  split: test
prompt:
  template: |-
    Solve the following math problem. Give the final answer in \\boxed{}.

    Problem: {problem}
fields:
  id: uid
  target: solution
  metadata: [level]
scorer: gsm8k
"""


#: a split whose Parquet file (about 330 KB of text that does not compress) is over a 100 KB
#: limit however it is read: no card states its size
BIG_ROWS = [
    {"uid": f"big-{i}", "problem": hashlib.sha256(str(i).encode()).hexdigest() * 2, "solution": "1"}
    for i in range(2500)
]


@pytest.fixture
def hub_root(tmp_path: Path) -> Path:
    root = tmp_path / "hub"
    write_repo(
        root, "acme/arith", {"easy": {"test": ROWS, "train": ROWS[:1]}, "big": {"test": BIG_ROWS}}
    )
    return root


@pytest.fixture
def hub(hub_root: Path) -> Iterator[tuple[str, list[str]]]:
    with hub_standin(hub_root) as served:
        yield served


@pytest.fixture
async def stack(redis_url: str, dataset_mirror: Path, tmp_path: Path) -> AsyncIterator[EvalStack]:
    async with eval_stack(redis_url, dataset_mirror, tmp_path) as built:
        yield built


async def register(stack: EvalStack, text: str) -> Any:
    return await stack.evals.post("/tasks", content=text.encode(), headers=YAML)


def the_422(response: Any) -> tuple[str, str]:
    """The one entry of a 422: its field and its message."""
    assert response.status_code == 422, response.text
    [entry] = response.json()["detail"]
    return entry["field"], entry["msg"]


async def test_a_hub_task_registers_runs_and_records_the_rows_checksum_and_commit(
    stack: EvalStack,
    hub: tuple[str, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint, requests = hub
    with monkeypatch.context() as online:
        hub_online(online, endpoint, tmp_path / "hf-home")
        created = await register(stack, TASK_FILE)
        assert created.status_code == 201, created.text
        assert created.json()["dataset"] == {
            "source": "hub",
            "hub": "acme/arith",
            "config": "easy",
            "split": "test",
            "revision": None,
        }
        # read through the hub's file layout, prepared in the cache under the data directory
        assert any(r.startswith("GET /datasets/acme/arith/resolve/") for r in requests)
        assert any((tmp_path / "hf-cache").glob("acme___arith/easy/*/" + REVISION))

        run = await stack.run({"model": MODEL, "tasks": ["arith-hub"]})
    assert run["status"] == "succeeded", run
    items = await stack.items(run["id"])
    assert sorted(it["id"] for it in items) == ["add", "bags", "mul", "sub"]
    assert all(it["request"]["prompt"].startswith("Solve the following") for it in items)
    assert {it["id"]: it["metadata"]["level"] for it in items}["bags"] == 2
    results = results_of(run)
    task = results["tasks"]["arith-hub"]
    assert task["custom"] is True
    assert task["definition"]["dataset"]["hub"] == "acme/arith"
    sums = results["dataset_checksums"]
    # the rows as loaded (parquet gives them back as written), and the commit they came from
    assert sums["task/arith-hub/data"] == rows_sha256(ROWS)
    assert sums["task/arith-hub/revision"] == REVISION
    assert sums["task/arith-hub/definition"] == created.json()["sha256"]
    # the simulator (always right) worked the problems out; the gold came from "solution"
    assert results["metrics"]["arith-hub"]["accuracy"]["mean"] == 1.0

    # offline now (as the tests run): the cached repo still registers and runs, from the cache
    seen = len(requests)
    bumped = await register(stack, TASK_FILE.replace('version: "1"', 'version: "2"'))
    assert bumped.status_code == 201, bumped.text
    again = await stack.run({"model": MODEL, "tasks": ["arith-hub"], "limit": 2})
    assert again["status"] == "succeeded", again
    assert results_of(again)["dataset_checksums"]["task/arith-hub/data"] == rows_sha256(ROWS)
    assert len(requests) == seen  # the hub was not asked
    # a pinned commit the cache does not hold cannot be read offline
    pinned = TASK_FILE.replace("  split: test\n", f"  split: test\n  revision: {'f' * 40}\n")
    field, msg = the_422(await register(stack, pinned.replace('version: "1"', 'version: "3"')))
    assert field == "dataset.revision" and f"(it has {REVISION})" in msg


async def test_a_hub_that_cannot_be_reached_is_a_422_naming_dataset_hub(
    stack: EvalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # offline (HF_HUB_OFFLINE=1, as the tests run) and nothing cached
    field, msg = the_422(await register(stack, TASK_FILE))
    assert field == "dataset.hub"
    assert "the Hugging Face hub could not be reached (HF_HUB_OFFLINE is set)" in msg
    assert "'acme/arith' is not in the cache" in msg
    # online, but nothing answers at the endpoint
    with monkeypatch.context() as online:
        hub_online(online, f"http://127.0.0.1:{free_port()}", tmp_path / "hf-home")
        field, msg = the_422(await register(stack, TASK_FILE))
    assert field == "dataset.hub"
    assert "the Hugging Face hub could not be reached (no network at http://127.0.0.1:" in msg
    assert (await stack.evals.get("/tasks/arith-hub")).status_code == 404


async def test_a_hub_repo_config_or_split_that_is_not_there_is_named(
    stack: EvalStack,
    hub: tuple[str, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint, _ = hub
    hub_online(monkeypatch, endpoint, tmp_path / "hf-home")
    field, msg = the_422(await register(stack, TASK_FILE.replace("acme/arith", "acme/nosuch")))
    assert field == "dataset.hub" and "no dataset 'acme/nosuch' on the hub" in msg
    field, msg = the_422(await register(stack, TASK_FILE.replace("config: easy", "config: hard")))
    assert field == "dataset.config" and "hard" in msg and "easy" in msg
    field, msg = the_422(await register(stack, TASK_FILE.replace("split: test", "split: dev")))
    assert field == "dataset.split" and "no split 'dev'" in msg and "'test'" in msg
    # a row lacking a field the template reads is named as for a JSONL file (by its row)
    field, msg = the_422(await register(stack, TASK_FILE.replace("{problem}", "{question}")))
    assert field == "prompt.template" and "row 0 of the dataset has no field 'question'" in msg
    # the file itself is checked first: a repo id that is none, a dataset of no known kind
    field, _ = the_422(await register(stack, TASK_FILE.replace("acme/arith", "acme/a b")))
    assert field == "dataset.hub"
    no_kind = TASK_FILE.replace("  hub: acme/arith\n", "  repo: acme/arith\n")
    assert the_422(await register(stack, no_kind))[0] == "dataset.source"


async def test_a_hub_split_over_the_size_limits_is_a_422_naming_dataset_split(
    stack: EvalStack,
    hub: tuple[str, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A split brings in at most EVAL_SERVICE_HUB_MAX_ROWS rows and EVAL_SERVICE_HUB_MAX_BYTES
    bytes: beyond, registering the task is a 422 naming dataset.split and the setting."""
    endpoint, _ = hub
    hub_online(monkeypatch, endpoint, tmp_path / "hf-home")
    monkeypatch.setattr(stack.settings, "hub_max_rows", len(ROWS) - 1)
    field, msg = the_422(await register(stack, TASK_FILE))
    assert field == "dataset.split"
    assert f"'acme/arith' 'test' has {len(ROWS)} rows, over the limit of {len(ROWS) - 1}" in msg
    assert "(EVAL_SERVICE_HUB_MAX_ROWS)" in msg
    assert (await stack.evals.get("/tasks/arith-hub")).status_code == 404
    monkeypatch.setattr(stack.settings, "hub_max_rows", len(ROWS))
    monkeypatch.setattr(stack.settings, "hub_max_bytes", 64)
    field, msg = the_422(await register(stack, TASK_FILE))
    assert field == "dataset.split" and "over the limit of 64 (EVAL_SERVICE_HUB_MAX_BYTES)" in msg
    # at the limits, the split is taken
    monkeypatch.setattr(stack.settings, "hub_max_bytes", 1024 * 1024)
    created = await register(stack, TASK_FILE)
    assert created.status_code == 201, created.text


async def test_a_split_whose_files_on_the_hub_are_over_the_byte_limit_is_not_downloaded(
    stack: EvalStack,
    hub: tuple[str, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The repo's card states no size: the split's files' sizes, asked of the hub, refuse it
    before a byte of them is fetched (a 422 naming dataset.split)."""
    endpoint, requests = hub
    hub_online(monkeypatch, endpoint, tmp_path / "hf-home")
    monkeypatch.setattr(stack.settings, "hub_max_bytes", 100 * 1024)
    big = TASK_FILE.replace("config: easy", "config: big")
    field, msg = the_422(await register(stack, big))
    assert field == "dataset.split"
    assert "of files on the hub, over the limit of 102,400 (EVAL_SERVICE_HUB_MAX_BYTES)" in msg
    assert "before any is downloaded" in msg
    assert not [r for r in requests if "/resolve/" in r and "big/" in r], requests
    assert not list((tmp_path / "hf-cache").glob("acme___arith/big"))
    # the small config of the same repo is still taken under that limit
    created = await register(stack, TASK_FILE)
    assert created.status_code == 201, created.text
