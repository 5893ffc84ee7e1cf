"""Custom tasks end to end on the in-process eval stack (see ``eval_support``): a task file
registered with ``POST /tasks`` (YAML), listed and read back, run against the simulator, its
definition and checksums in the results; a bad task file is a 422 naming the field and line."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tutorlab.datasets.mirror import load_mirror

from tests.integration.eval_support import MODEL, EvalStack, eval_stack, results_of

pytestmark = pytest.mark.integration

YAML = {"content-type": "application/yaml"}

TASK_FILE = """\
name: word-problems
version: "1"
description: five GSM8K problems as our own JSONL, other field names
dataset:
  source: jsonl
  path: tasks/word_problems.jsonl
prompt:
  template: |-
    Solve the following math problem. Give the final answer in \\boxed{}.

    Problem: {problem}
fields:
  id: qid
  target: final
  metadata: [source]
scorer: gsm8k
"""


@pytest.fixture
async def stack(redis_url: str, dataset_mirror: Path, tmp_path: Path) -> AsyncIterator[EvalStack]:
    async with eval_stack(redis_url, dataset_mirror, tmp_path) as built:
        yield built


def write_rows(tmp_path: Path, dataset_mirror: Path, count: int = 5) -> Path:
    """A team's JSONL under the data directory: GSM8K test problems the simulator knows, read
    from the mirror now (no copy of the dataset is kept in the repository)."""
    records, _ = load_mirror(dataset_mirror, "gsm8k", "test")
    path = tmp_path / "tasks" / "word_problems.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {"qid": f"wp-{i}", "problem": r.question, "final": r.answer, "source": r.id}
        for i, r in enumerate(records[:count])
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


async def register(stack: EvalStack, text: str) -> Any:
    return await stack.evals.post("/tasks", content=text.encode(), headers=YAML)


async def test_a_registered_task_runs_like_a_built_in_and_its_results_carry_its_checksums(
    stack: EvalStack, tmp_path: Path, dataset_mirror: Path
) -> None:
    data = write_rows(tmp_path, dataset_mirror)
    created = await register(stack, TASK_FILE)
    assert created.status_code == 201, created.text
    definition = created.json()["definition"]
    assert created.json()["sha256"] and definition["scorer"]["name"] == "gsm8k"
    again = await register(stack, TASK_FILE)  # the same definition: nothing new
    assert again.status_code == 200
    listed = (await stack.evals.get("/tasks")).json()
    assert listed["word-problems"]["custom"] is True and "gsm8k" in listed
    one = await stack.evals.get("/tasks/word-problems")
    assert one.status_code == 200 and one.json()["definition"] == definition
    assert (await stack.evals.get("/tasks/gsm8k")).json()["scorer"] == "gsm8k"
    assert (await stack.evals.get("/tasks/nosuch")).status_code == 404

    run = await stack.run({"model": MODEL, "tasks": ["word-problems", "gsm8k"], "limit": 3})
    assert run["status"] == "succeeded", run
    items = [it for it in await stack.items(run["id"]) if it["task"] == "word-problems"]
    assert len(items) == 3 and {it["id"] for it in items} <= {f"wp-{i}" for i in range(5)}
    assert all(it["request"]["prompt"].startswith("Solve the following") for it in items)
    assert all(it["request"]["gold"] and it["metadata"]["source"] for it in items)
    results = results_of(run)
    task = results["tasks"]["word-problems"]
    assert task["custom"] is True and task["version"] == "1"
    assert task["definition"] == definition
    assert task["definition_sha256"] == created.json()["sha256"]
    sums = results["dataset_checksums"]
    assert sums["task/word-problems/data"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert sums["task/word-problems/definition"] == task["definition_sha256"]
    assert results["prompt_versions"]["custom:word-problems"] == "1"
    # the simulator (always right) answered the rendered problems: the gold came from "final"
    assert results["metrics"]["word-problems"]["accuracy"]["mean"] == 1.0

    # a changed definition under the same version is refused; a new version replaces it
    changed = TASK_FILE.replace("description: five", "description: 5")
    conflict = await register(stack, changed)
    assert conflict.status_code == 409 and "version" in conflict.text
    bumped = await register(stack, changed.replace('version: "1"', 'version: "2"'))
    assert bumped.status_code == 201
    assert bumped.json()["sha256"] != created.json()["sha256"]


def field_of(response: Any) -> list[tuple[str, int | None]]:
    assert response.status_code == 422, response.text
    return [(d["field"], d.get("line")) for d in response.json()["detail"]]


async def test_a_bad_task_file_is_a_422_naming_the_field_and_its_line(
    stack: EvalStack, tmp_path: Path, dataset_mirror: Path
) -> None:
    write_rows(tmp_path, dataset_mirror)
    bad_scorer = TASK_FILE.replace("scorer: gsm8k", "scorer: {name: gsm9k}")
    assert field_of(await register(stack, bad_scorer)) == [("scorer.name", 16)]
    bad_option = TASK_FILE.replace(
        "scorer: gsm8k", "scorer:\n  name: tutoring\n  options: {mood: x}"
    )
    assert field_of(await register(stack, bad_option)) == [("scorer.options.mood", 18)]
    no_path = TASK_FILE.replace("  path: tasks/word_problems.jsonl\n", "")
    assert field_of(await register(stack, no_path)) == [("dataset.path", 5)]
    bad_source = TASK_FILE.replace("source: jsonl", "source: ftp")
    assert field_of(await register(stack, bad_source))[0] == ("dataset.source", 5)
    no_name = TASK_FILE.replace("name: word-problems\n", "")
    assert field_of(await register(stack, no_name)) == [("name", 1)]
    broken = TASK_FILE.replace("fields:\n", "fields: [\n")
    assert field_of(await register(stack, broken))[0][0] == "body"
    assert field_of(await register(stack, broken))[0][1] is not None
    # the data is read at registration: a path outside the data and outputs directories
    outside = TASK_FILE.replace("tasks/word_problems.jsonl", "/etc/passwd")
    assert field_of(await register(stack, outside)) == [("dataset.path", None)]
    # a template field the rows lack, named with the row's line
    missing = TASK_FILE.replace("{problem}", "{question}")
    response = await register(stack, missing)
    assert field_of(response) == [("prompt.template", None)]
    assert "line 1 of the dataset has no field 'question'" in response.text
    built_in = TASK_FILE.replace("name: word-problems", "name: gsm8k")
    assert field_of(await register(stack, built_in)) == [("name", None)]
    # a benchmark naming a task nobody registered
    unknown = await stack.evals.post("/benchmarks", json={"model": MODEL, "tasks": ["mine"]})
    assert unknown.status_code == 422 and "register your own with POST /tasks" in unknown.text
    smuggled = await stack.evals.post(
        "/benchmarks", json={"model": MODEL, "tasks": ["gsm8k"], "custom_tasks": {}}
    )
    assert field_of(smuggled) == [("custom_tasks", None)]


async def test_an_id_no_run_could_store_is_refused_at_registration_naming_its_line(
    stack: EvalStack, tmp_path: Path, dataset_mirror: Path
) -> None:
    """A NUL in an id (PostgreSQL refuses it in a text column), an id longer than a run stores,
    or a repeated id: a 422 naming ``fields.id`` and the line, not a run that fails mid-way."""
    path = write_rows(tmp_path, dataset_mirror)
    lines = path.read_text().splitlines()
    for bad_id, says in (
        ("wp-\x00-2", "line 3 has an id that contains a NUL character"),
        ("w" * 201, "line 3 has an id of 201 characters, over the 200 a run stores"),
        ("wp-0", "line 3 repeats the id 'wp-0'"),
    ):
        row = json.loads(lines[2])
        path.write_text("\n".join([*lines[:2], json.dumps({**row, "qid": bad_id}), *lines[3:]]))
        response = await register(stack, TASK_FILE)
        assert field_of(response) == [("fields.id", None)]
        assert says in response.text, response.text
    path.write_text("\n".join(lines))
    assert (await register(stack, TASK_FILE)).status_code == 201
