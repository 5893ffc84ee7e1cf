"""Epochs end to end on the in-process eval stack (see ``eval_support``): every item sampled
N times with its own seed, a row per sample, reduced scores per item (mean, pass@k, maj@k),
an identical run reused, and comparisons paired by item over the reduced scores."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from eval_service.epochs import pass_at_k

from tests.integration.eval_support import MODEL, EvalStack, eval_stack, results_of

pytestmark = pytest.mark.integration

BODY: dict[str, Any] = {
    "model": MODEL,
    "tasks": ["gsm8k"],
    "limit": 6,
    "seed": 1,
    "epochs": 3,
    "reducers": ["mean", "pass@2", "maj@3"],
    "params": {"temperature": 0.7},
}


@pytest.fixture
async def stack(redis_url: str, dataset_mirror: Path, tmp_path: Path) -> AsyncIterator[EvalStack]:
    async with eval_stack(redis_url, dataset_mirror, tmp_path) as built:
        await built.sim_config(accuracy=0.5)  # each sample right or wrong by its seed
        yield built


def by_item(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        groups[item["id"]].append(item)
    return {k: sorted(v, key=lambda it: it["epoch"]) for k, v in groups.items()}


async def test_three_epochs_sample_each_item_three_times_and_reduce_them(
    stack: EvalStack,
) -> None:
    run = await stack.run(BODY)
    assert run["status"] == "succeeded", run
    assert run["progress"]["total"] == 18
    assert await stack.sim_requests() == 18  # three distinct requests per item, none cached
    items = await stack.items(run["id"])
    groups = by_item(items)
    assert len(groups) == 6
    assert all([it["epoch"] for it in g] == [0, 1, 2] for g in groups.values())
    # a sample's seed is the run's plus its epoch: the simulator's draws differ between them
    assert any(len({it["metrics"]["accuracy"] for it in g}) == 2 for g in groups.values())
    results = results_of(run)
    epochs = results["epochs"]
    assert epochs["n"] == 3 and epochs["seeds"] == [0, 1, 2]
    assert results["config"]["epochs"] == 3
    assert results["counts"] == {**results["counts"], "planned": 18, "items": 18, "errors": 0}
    reduced = epochs["items"]["gsm8k"]
    assert set(reduced) == set(groups)
    for item_id, samples in groups.items():
        correct = [bool(it["metrics"]["accuracy"]) for it in samples]
        votes = Counter(it["extracted"] for it in samples).most_common(1)[0][0]
        winner = next(it for it in samples if it["extracted"] == votes)
        assert reduced[item_id]["samples"] == 3
        assert reduced[item_id]["mean"]["accuracy"] == pytest.approx(sum(correct) / 3)
        assert reduced[item_id]["pass@2"] == pytest.approx(pass_at_k(3, sum(correct), 2))
        assert reduced[item_id]["maj@3"] is bool(winner["metrics"]["accuracy"])
    per_item = [r["pass@2"] for r in reduced.values()]
    assert results["headline"]["gsm8k.accuracy.pass@2"] == pytest.approx(sum(per_item) / 6)
    means = epochs["metrics"]["gsm8k"]
    assert means["mean"]["accuracy"]["n"] == 6
    assert means["maj@3"]["accuracy"]["mean"] == pytest.approx(
        sum(r["maj@3"] for r in reduced.values()) / 6
    )
    # the same request again: an identical run, reused (no request), the same reduced scores
    again = await stack.run(BODY)
    assert await stack.sim_requests() == 18
    assert results_of(again)["epochs"]["items"] == epochs["items"]
    assert results_of(again)["reused_from"] == run["id"]


async def test_epochs_without_a_temperature_are_refused_naming_it(stack: EvalStack) -> None:
    body = {**BODY, "params": {}}  # the model is registered without one: greedy, the default
    response = await stack.evals.post("/benchmarks", json=body)
    assert response.status_code == 422, response.text
    assert "params.temperature: epochs=3" in response.text
    response = await stack.evals.post("/benchmarks", json={**BODY, "reducers": ["pass@4"]})
    assert response.status_code == 422
    assert "reducers: 'pass@4' needs k <= epochs (3)" in response.text


async def test_comparisons_pair_items_over_their_reduced_scores(stack: EvalStack) -> None:
    single = await stack.run({**BODY, "epochs": 1, "reducers": ["mean"], "label": "one"})
    first = await stack.run({**BODY, "label": "three"})
    second = await stack.run({**BODY, "label": "three", "params": {"temperature": 0.9}})
    response = await stack.evals.post(
        "/comparisons",
        json={"baseline": single["id"], "candidate": first["id"], "n_resamples": 200},
    )
    assert response.status_code == 201, response.text
    report = response.json()
    accuracy = report["metrics"]["gsm8k.accuracy"]
    assert accuracy["kind"] == "continuous" and accuracy["n_pairs"] == 6
    reduced = results_of(first)["epochs"]["items"]["gsm8k"]
    assert accuracy["candidate_mean"] == pytest.approx(
        sum(r["mean"]["accuracy"] for r in reduced.values()) / 6
    )
    assert report["metrics"]["gsm8k.accuracy.pass@2"]["verdict"] == "not compared"
    assert any("reduced scores" in note for note in report["notes"])
    response = await stack.evals.post(
        "/comparisons",
        json={"baseline": first["id"], "candidate": second["id"], "n_resamples": 200},
    )
    assert response.status_code == 201, response.text
    metrics = response.json()["metrics"]
    assert metrics["gsm8k.accuracy.pass@2"]["n_pairs"] == 6
    assert metrics["gsm8k.accuracy.maj@3"]["kind"] == "binary"
    assert metrics["gsm8k.accuracy.maj@3"]["verdict"] != "not compared"
