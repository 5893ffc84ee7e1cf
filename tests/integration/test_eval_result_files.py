"""Result files named in requests (``baseline``, ``candidate``, ``compare_to``): confined to the
outputs directory, bad files a 422, the layout earlier versions wrote still read; comparisons
with nothing to compare give no verdict.

Real runs on the in-process eval stack (see ``eval_support``), files on a real disk.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tutorlab.db import create_engine, session_factory
from tutorlab.jobs.models import Job

from tests.integration.eval_support import MODEL, EvalStack, eval_stack, results_of
from tests.support import run_worker

pytestmark = pytest.mark.integration

BODY = {"model": MODEL, "tasks": ["gsm8k"], "limit": 5, "seed": 1, "no_cache": True}


@pytest.fixture
async def stack(redis_url: str, dataset_mirror: Path, tmp_path: Path) -> AsyncIterator[EvalStack]:
    async with eval_stack(redis_url, dataset_mirror, tmp_path) as built:
        yield built


def outputs(stack: EvalStack) -> Path:
    return Path(stack.settings.outputs_dir)


def refused(field: str, ref: str) -> str:
    """The one answer for a path outside the outputs directory or naming nothing inside it."""
    return (
        f"{field}: {ref!r} is neither a benchmark run id nor a results file in the outputs "
        "directory"
    )


async def compare(stack: EvalStack, baseline: str, candidate: str) -> tuple[int, Any]:
    response = await stack.evals.post(
        "/comparisons", json={"baseline": baseline, "candidate": candidate, "n_resamples": 100}
    )
    return response.status_code, response.json()


async def test_paths_outside_the_outputs_directory_are_refused_like_missing_ones(
    stack: EvalStack, tmp_path: Path
) -> None:
    run = await stack.run({**BODY, "label": "base"})
    own = Path(run["result"]["results_path"]).parent
    # a perfectly good copy of the run's files, outside the outputs directory
    outside = tmp_path / "elsewhere"
    shutil.copytree(own, outside)
    link = outputs(stack) / "benchmarks" / "link"
    link.symlink_to(outside, target_is_directory=True)
    (own.parent / "file-link.json").symlink_to(outside / "benchmark_results.json")
    loop = outputs(stack) / "benchmarks" / "loop"
    loop.symlink_to(loop)
    cases = [
        str(outside / "benchmark_results.json"),  # absolute, outside
        str(outside),  # a folder outside
        str(outputs(stack) / ".." / "elsewhere" / "benchmark_results.json"),  # .. out
        os.path.relpath(outside / "benchmark_results.json"),  # relative, outside
        str(link / "benchmark_results.json"),  # through a symlinked folder inside
        str(link),
        str(own.parent / "file-link.json"),  # a symlinked file inside
        "/etc/passwd",
        str(loop / "benchmark_results.json"),  # a symlink loop
        str(tmp_path / "missing" / "benchmark_results.json"),  # missing, outside
        str(outputs(stack) / "benchmarks" / "missing" / "benchmark_results.json"),  # inside
        str(outputs(stack) / "benchmarks"),  # a folder with no results file
        "",
    ]
    for ref in cases:
        status, body = await compare(stack, ref, run["id"])
        assert (status, body.get("error")) == (422, refused("baseline", ref)), (ref, body)
        status, body = await compare(stack, run["id"], ref)
        assert (status, body["error"]) == (422, refused("candidate", ref)), ref
        if ref:  # an empty compare_to is no comparison
            submitted = await stack.evals.post("/benchmarks", json={**BODY, "compare_to": ref})
            assert submitted.status_code == 422, ref
            assert submitted.json()["error"] == refused("compare_to", ref), ref
    # a NUL in the path is refused before any lookup, like a NUL in any request string
    for field in ("baseline", "candidate", "compare_to"):
        body_json = {**BODY, "compare_to": "no\x00such"} if field == "compare_to" else None
        if body_json is None:
            pair = ("no\x00such", run["id"]) if field == "baseline" else (run["id"], "no\x00such")
            status, body = await compare(stack, *pair)
        else:
            answer = await stack.evals.post("/benchmarks", json=body_json)
            status, body = answer.status_code, answer.json()
        assert status == 422 and field in str(body) and "NUL" in str(body), (field, body)
    # nothing was written outside, and the refusals recorded no comparison
    assert sorted(p.name for p in outside.iterdir()) == ["benchmark_results.json", "items.jsonl"]
    assert (await stack.evals.get("/comparisons")).json() == []
    # inside, through the run's own folder, the same run compares with itself
    status, body = await compare(stack, str(own), run["id"])
    assert status == 201, body
    assert body["n_common_items"] == 5 and body["path"] == str(own / "comparison.json")


async def test_a_bad_file_inside_the_outputs_directory_is_a_422_naming_the_field(
    stack: EvalStack,
) -> None:
    run = await stack.run({**BODY, "label": "base"})
    good = Path(run["result"]["results_path"])
    junk = outputs(stack) / "benchmarks" / "junk"
    junk.mkdir(parents=True)

    def results_file(name: str, data: bytes) -> str:
        (junk / name).write_bytes(data)
        return str(junk / name)

    bad_results = {
        "binary": (bytes(range(256)) * 8, "is not a results file (not JSON"),
        "truncated": (b'{"tasks": {"gsm8k": ', "is not a results file (not JSON"),
        "a list": (b"[1, 2, 3]", "is not a results file (not a JSON object)"),
        "no tasks": (b'{"run_id": "x"}', "is not a results file (no 'tasks' object)"),
        "tasks of strings": (b'{"tasks": {"gsm8k": "x"}}', "is not a results file (no 'tasks'"),
    }
    for number, (case, (data, expected)) in enumerate(bad_results.items()):
        ref = results_file(f"r{number}.json", data)
        status, body = await compare(stack, ref, run["id"])
        assert status == 422, (case, body)
        assert body["error"].startswith(f"baseline: {ref} {expected}"), (case, body)

    # a good results file whose items file is missing, binary, or has a bad line
    shutil.copyfile(good, junk / "benchmark_results.json")
    status, body = await compare(stack, run["id"], str(junk))
    assert status == 422
    assert body["error"] == f"candidate: {junk / 'items.jsonl'} (the per-item results) not found"
    lines = good.with_name("items.jsonl").read_bytes().splitlines(keepends=True)
    bad_items = {
        "binary": (lines[0] + b"\xff\xfe\x00garbage\n", ":2: not JSON"),
        "not an object": (lines[0] + b"[]\n", ":2: not a JSON object"),
        "no task": (lines[0] + lines[1] + b'{"id": "x"}\n', ":3: an item needs a string 'task'"),
        "metrics": (b'{"task": "gsm8k", "id": "1", "metrics": 3}\n', ":1: 'metrics' is not"),
    }
    for case, (data, expected) in bad_items.items():
        (junk / "items.jsonl").write_bytes(data)
        status, body = await compare(stack, run["id"], str(junk / "benchmark_results.json"))
        assert status == 422, (case, body)
        assert body["error"].startswith(f"candidate: {junk / 'items.jsonl'}{expected}"), body
    # a metric value of the wrong type in an items line
    first = json.loads(lines[0])
    (junk / "items.jsonl").write_bytes(
        json.dumps({**first, "metrics": {**first["metrics"], "accuracy": "yes"}}).encode()
    )
    status, body = await compare(stack, run["id"], str(junk))
    assert status == 422 and "is binary, expected a bool" in body["error"], body
    assert not (junk / "comparison.json").exists()


async def test_runs_sharing_no_item_give_no_verdict(stack: EvalStack) -> None:
    run = await stack.run({**BODY, "label": "base"})
    own = Path(run["result"]["results_path"]).parent
    # the same run's files with every item renamed: no item in common
    other = outputs(stack) / "benchmarks" / "renamed"
    other.mkdir(parents=True)
    shutil.copyfile(own / "benchmark_results.json", other / "benchmark_results.json")
    items = [json.loads(line) for line in (own / "items.jsonl").read_text().splitlines()]
    (other / "items.jsonl").write_text(
        "".join(json.dumps({**item, "id": f"other-{item['id']}"}) + "\n" for item in items)
    )
    status, body = await compare(stack, run["id"], str(other))
    assert status == 422, body
    assert body["error"] == (
        "the two runs share no scored item (baseline 5, candidate 5): no verdict can be given"
    )
    assert not (other / "comparison.json").exists()
    # as the baseline of a new run: the run is kept, its summary says why there is no comparison
    later = await stack.run({**BODY, "label": "later", "compare_to": str(other)})
    assert later["status"] == "succeeded", later
    assert "share no scored item" in later["result"]["comparison_error"]
    assert "comparison_path" not in later["result"]


async def test_results_written_in_the_layout_of_earlier_versions_still_load(
    stack: EvalStack,
) -> None:
    old = await stack.run({**BODY, "label": "legacy"})
    # rewrite the run as an earlier version left it: its files in the label folder itself
    label = outputs(stack) / "benchmarks" / "legacy"
    for path in (label / "runs" / old["id"]).iterdir():
        path.replace(label / path.name)
    shutil.rmtree(label / "runs")
    assert stack.settings.database_url is not None
    engine = create_engine(stack.settings.database_url)
    try:
        async with session_factory(engine)() as session:
            job = await session.get(Job, old["id"])
            assert job is not None
            job.result = {
                **(job.result or {}),
                "results_path": str(label / "benchmark_results.json"),
                "items_path": str(label / "items.jsonl"),
            }
            session.add(job)
            await session.commit()
    finally:
        await engine.dispose()
    old = await stack.get(old["id"])
    assert results_of(old)["run_id"] == old["id"]

    async def old_results() -> dict[str, Any]:
        response = await stack.evals.get(f"/benchmarks/{old['id']}/results")
        assert response.status_code == 200, response.text
        return dict(response.json())

    assert (await old_results())["run_id"] == old["id"]
    status, body = await compare(stack, str(label / "benchmark_results.json"), old["id"])
    assert status == 201, body
    assert body["n_common_items"] == 5 and body["path"] == str(label / "comparison.json")

    # a new run with the same label: the old run's files move to its own folder first
    new = await stack.run({**BODY, "label": "legacy", "compare_to": old["id"]})
    assert new["status"] == "succeeded" and "comparison_id" in new["result"], new
    assert json.loads((label / "benchmark_results.json").read_text())["run_id"] == new["id"]
    kept = label / "runs" / old["id"]
    assert sorted(p.name for p in kept.iterdir()) == [
        "benchmark_results.json",
        "comparison.json",
        "items.jsonl",
    ]
    assert (await old_results())["run_id"] == old["id"]
    # and it still compares by id and by its (old) path, which now names the newest run
    status, body = await compare(stack, old["id"], new["id"])
    assert status == 201 and body["baseline"]["run_id"] == old["id"], body
    status, body = await compare(stack, str(kept), str(label))
    assert status == 201, body
    assert body["baseline"]["run_id"] == old["id"] and body["candidate"]["run_id"] == new["id"]
    assert body["path"] == str(label / "runs" / new["id"] / "comparison.json")


async def test_a_comparison_is_written_only_inside_the_outputs_directory(
    stack: EvalStack, tmp_path: Path
) -> None:
    # runs whose files lie outside the service's outputs directory (it was moved since)
    elsewhere = tmp_path / "moved"
    ids = []
    for label in ("one", "two"):
        run_id = await stack.submit({**BODY, "label": label})
        await run_worker(stack.worker(outputs_dir=elsewhere))
        ids.append(run_id)
    status, body = await compare(stack, ids[0], ids[1])
    assert status == 201, body
    assert body["path"] is None and body["n_common_items"] == 5
    assert not list(elsewhere.rglob("comparison.json"))
    recorded = (await stack.evals.get(f"/comparisons/{body['id']}")).json()
    assert recorded["path"] is None and recorded["summary"] == body["summary"]
