"""Benchmarks end to end: eval-service, its worker, tutor-api and the simulator as real processes.

The simulator answers a whole split correctly at exactly its configured accuracy, so measured
numbers are checked against known truth; its faults (5xx, hangs, garbage, 429) and a SIGKILLed
worker check that failures are counted as errors, never as wrong answers, and that no item is
lost or stored twice. Runs that must not reuse earlier replies pass ``no_cache`` or a
``cache_epoch``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eval_service.catalog import load_catalog
from eval_service.items import ItemLoader, select
from tutorlab.cli.main import app as cli_app
from tutorlab.dev.devstack import Stack
from typer.testing import CliRunner

pytestmark = pytest.mark.e2e

MODEL = "qwen3:8b-baseline"
GSM8K_TEST = 1319
TERMINAL = ("succeeded", "failed", "cancelled")
#: fields PUT /sim/config may change
FIXED_SIM_FIELDS = {"host", "port", "dataset_mirror"}


@pytest.fixture(scope="module")
def model(stack: Stack, tutor: httpx.Client) -> str:
    """The simulator registered as an Ollama endpoint (max_concurrency 8; jobs may raise it)."""
    response = tutor.post(
        "/models",
        json={
            "name": MODEL,
            "kind": "ollama",
            "base_url": stack.url("simulator"),
            "model": "qwen3:8b",
            "max_concurrency": 8,
        },
    )
    assert response.status_code == 201, response.text
    return MODEL


@pytest.fixture
def sim_config(sim: httpx.Client) -> Iterator[Callable[..., dict[str, Any]]]:
    """Change the simulator's config for one test; restored afterwards."""
    saved = {k: v for k, v in sim.get("/sim/config").json().items() if k not in FIXED_SIM_FIELDS}

    def change(**fields: Any) -> dict[str, Any]:
        response = sim.put("/sim/config", json=fields)
        assert response.status_code == 200, response.text
        return response.json()

    yield change
    sim.put("/sim/config", json=saved).raise_for_status()


def submit(evals: httpx.Client, body: dict[str, Any]) -> str:
    response = evals.post("/benchmarks", json=body)
    assert response.status_code == 202, response.text
    run = response.json()
    assert response.headers["location"] == f"/benchmarks/{run['id']}"
    return str(run["id"])


def wait(
    evals: httpx.Client,
    run_id: str,
    timeout_s: float = 120,
    until: Callable[[dict[str, Any]], bool] = lambda run: run["status"] in TERMINAL,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = evals.get(f"/benchmarks/{run_id}").json()
        if until(run):
            return run
        time.sleep(0.1)
    raise AssertionError(f"benchmark {run_id} not there after {timeout_s} s: {run}")


def results_of(run: dict[str, Any]) -> dict[str, Any]:
    return json.loads(Path(run["result"]["results_path"]).read_text())


def items_of(evals: httpx.Client, run_id: str, **filters: Any) -> dict[str, Any]:
    response = evals.get(f"/benchmarks/{run_id}/items", params={"limit": 1000, **filters})
    assert response.status_code == 200, response.text
    return response.json()


def test_quick_suite_writes_results_and_lists_items(
    stack: Stack, evals: httpx.Client, model: str
) -> None:
    run_id = submit(evals, {"model": model, "suite": "quick"})
    run = wait(evals, run_id)
    assert run["status"] == "succeeded", run
    assert run["progress"] == {"done": 50, "total": 50}
    assert run["attempts"] == 1 and run["errors"] == 0

    # the run's own folder, and the label's folder holding a copy of its newest run's files
    label = stack.root / "outputs" / "benchmarks" / "qwen3_8b-baseline"
    folder = label / "runs" / run_id
    assert run["result"]["results_path"] == str(folder / "benchmark_results.json")
    for name in ("benchmark_results.json", "items.jsonl"):
        assert (label / name).read_bytes() == (folder / name).read_bytes(), name
    results = results_of(run)
    assert evals.get(f"/benchmarks/{run_id}/results").json() == results
    assert results["run_id"] == run_id
    assert results["model"]["name"] == model and results["model"]["kind"] == "ollama"
    assert len(results["config_hash"]) == 16 and results["config"]["suite"] == "quick"
    assert results["config"]["params"]["max_tokens"] >= 1024
    assert results["prompt_versions"]["tutor_policy"].startswith("tutor-policy/")
    assert results["prompt_versions"]["math_boxed"] == "math-boxed/1"
    assert {"gsm8k/test", "math/test", "evalset/safety", "evalset/tutoring"} <= set(
        results["dataset_checksums"]
    )
    timing = results["timing"]
    assert timing["wall_s"] > 0 and timing["items_per_s"] > 0
    assert 0 < timing["latency_ms"]["p50"] <= timing["latency_ms"]["p95"]
    assert results["usage"]["total_tokens"] > 0
    assert results["counts"] == {
        "planned": 50,
        "items": 50,
        "scored": 50,
        "errors": 0,
        "cached": 0,
    }
    for task in ("gsm8k", "math", "tutoring", "safety", "over_refusal"):
        assert results["tasks"][task]["items"] == 10
        for name, summary in results["metrics"][task].items():
            assert {"n", "mean", "se", "ci_low", "ci_high"} <= set(summary), (task, name)
    assert results["metrics"]["gsm8k"]["accuracy"]["n"] == 10
    assert set(results["breakdowns"]["math"]) == {"subject", "level"}
    assert "category" in results["breakdowns"]["safety"]
    item_lines = (folder / "items.jsonl").read_text().splitlines()
    assert len(item_lines) == 50
    # live metrics on the run agree with the file
    assert run["metrics"]["gsm8k"]["accuracy"] == results["metrics"]["gsm8k"]["accuracy"]

    listed = {r["id"]: r for r in evals.get("/benchmarks").json()}
    assert listed[run_id]["status"] == "succeeded"
    assert listed[run_id]["headline"] == results["headline"]

    gsm8k = items_of(evals, run_id, task="gsm8k")
    assert gsm8k["total"] == 10 and {i["task"] for i in gsm8k["items"]} == {"gsm8k"}
    correct = items_of(evals, run_id, task="gsm8k", verdict="correct")
    accuracy = results["metrics"]["gsm8k"]["accuracy"]
    assert correct["total"] == round(accuracy["mean"] * accuracy["n"])
    assert all(i["verdict"] == "correct" and i["metrics"]["accuracy"] for i in correct["items"])
    assert items_of(evals, run_id, error=True)["total"] == 0
    assert items_of(evals, run_id, error=False)["total"] == 50
    page = items_of(evals, run_id, offset=45, limit=10)
    assert page["total"] == 50 and len(page["items"]) == 5
    first = gsm8k["items"][0]
    assert first["status"] == "ok" and first["response"] and first["extraction_rule"]
    assert first["request"]["gold"] is not None and first["latency_ms"] > 0


def test_known_accuracy_is_measured_exactly_then_served_from_cache(
    evals: httpx.Client,
    sim: httpx.Client,
    model: str,
    sim_config: Callable[..., dict[str, Any]],
) -> None:
    sim_config(accuracy=0.7)
    body = {
        "model": model,
        "tasks": ["gsm8k"],
        "concurrency": 64,
        "cache_epoch": 11,  # no earlier test's replies
        "label": "known-accuracy",
    }
    cold = wait(evals, submit(evals, body))
    assert cold["status"] == "succeeded", cold
    results = results_of(cold)
    assert results["config"]["concurrency"] == 64
    accuracy = results["metrics"]["gsm8k"]["accuracy"]
    assert accuracy["n"] == GSM8K_TEST and results["counts"]["errors"] == 0
    # the simulator is right on exactly round(0.7 × 1319) = 923 items
    assert abs(accuracy["mean"] - 0.7) <= 0.01
    assert accuracy["mean"] * GSM8K_TEST == pytest.approx(923)
    assert results["metrics"]["gsm8k"]["invalid_rate"]["mean"] == 0.0

    sim.delete("/sim/stats").raise_for_status()
    warm = wait(evals, submit(evals, {**body, "concurrency": 256}))
    assert warm["status"] == "succeeded", warm
    warm_results = results_of(warm)
    assert warm_results["counts"]["cached"] == GSM8K_TEST
    assert warm_results["metrics"] == results["metrics"]
    assert sim.get("/sim/stats").json()["requests_total"] == 0
    # an identical run (the concurrency limit aside) copies the cold run's scored items
    assert warm_results["reused_from"] == cold["id"]
    assert warm["progress"]["done"] == warm["progress"]["total"] == GSM8K_TEST
    reused_items = Path(warm["result"]["items_path"]).read_bytes()
    stored = items_of(evals, warm["id"], task="gsm8k")
    assert stored["total"] == GSM8K_TEST
    assert all(it["cached"] and it["attempts"] == 0 for it in stored["items"])

    # rescored from the cache item by item: the same rows, files and numbers
    rescored = wait(evals, submit(evals, {**body, "rescore": True}))
    assert rescored["status"] == "succeeded", rescored
    rescored_results = results_of(rescored)
    assert "reused_from" not in rescored_results
    assert Path(rescored["result"]["items_path"]).read_bytes() == reused_items
    for key in ("metrics", "breakdowns", "counts", "usage", "headline", "error_rate"):
        assert rescored_results[key] == warm_results[key], key
    assert items_of(evals, rescored["id"], task="gsm8k")["items"] == stored["items"]
    assert sim.get("/sim/stats").json()["requests_total"] == 0

    fresh = wait(evals, submit(evals, {**body, "no_cache": True}))
    assert fresh["status"] == "succeeded", fresh
    fresh_results = results_of(fresh)
    assert fresh_results["counts"]["cached"] == 0
    assert fresh_results["metrics"]["gsm8k"]["accuracy"] == accuracy
    assert sim.get("/sim/stats").json()["by_endpoint"]["POST /api/chat"] == GSM8K_TEST


FAULTS = {
    "error_rate": 0.1,
    "timeout_rate": 0.03,
    "timeout_hang_s": 2.0,
    "malformed_rate": 0.08,
    "rate_limit_rate": 0.1,
    "retry_after_s": 0,
    "fault_seed": 3,
}


def test_faults_are_errors_with_causes_never_wrong_answers(
    evals: httpx.Client,
    sim: httpx.Client,
    model: str,
    sim_config: Callable[..., dict[str, Any]],
) -> None:
    sim_config(**FAULTS)
    sim.delete("/sim/stats").raise_for_status()
    body = {
        "model": model,
        "tasks": ["gsm8k"],
        "limit": 200,
        "seed": 5,
        "concurrency": 16,
        "no_cache": True,
        "request_timeout_s": 1.0,
        "error_threshold": 0.5,
        "label": "faults-tolerated",
    }
    run = wait(evals, submit(evals, body))
    assert run["status"] == "succeeded", run
    results = results_of(run)
    counts = results["counts"]
    assert counts["items"] == 200 and counts["errors"] > 0
    assert counts["scored"] == 200 - counts["errors"]
    assert results["error_rate"] == round(counts["errors"] / 200, 6)
    # failed requests are left out of every metric's denominator
    assert results["metrics"]["gsm8k"]["accuracy"]["n"] == counts["scored"]
    assert results["metrics"]["gsm8k"]["invalid_rate"]["n"] == counts["scored"]

    failed = items_of(evals, run["id"], error=True)
    assert failed["total"] == counts["errors"]
    for item in failed["items"]:
        assert item["status"] == "error" and item["verdict"] == "error"
        assert item["error"] and item["metrics"] == {} and item["response"] is None
    causes = " | ".join(i["error"] for i in failed["items"])
    assert "malformed" in causes  # a garbage body is not retried
    assert sum(results["errors_by_cause"].values()) == counts["errors"]

    stats = sim.get("/sim/stats").json()
    assert stats["by_fault"]["rate_limit"] > 0 and stats["by_fault"]["timeout"] > 0
    assert stats["by_fault"]["error"] > 0
    ok = items_of(evals, run["id"], error=False)
    assert ok["total"] >= 160  # 429s, 5xx and hangs were retried
    assert any(item["attempts"] > 1 for item in ok["items"])

    strict = wait(evals, submit(evals, {**body, "error_threshold": 0.01, "label": "faults-strict"}))
    assert strict["status"] == "failed", strict
    assert "threshold 1%" in strict["error"]
    strict_results = results_of(strict)  # written, and reachable by the run's id
    assert evals.get(f"/benchmarks/{strict['id']}/results").json() == strict_results
    assert strict_results["error_rate"] > 0.01
    assert strict_results["counts"]["items"] == 200


def test_worker_killed_mid_run_resumes_without_losing_or_repeating_items(
    stack: Stack,
    evals: httpx.Client,
    sim: httpx.Client,
    model: str,
    sim_config: Callable[..., dict[str, Any]],
    dataset_mirror: Path,
) -> None:
    sim_config(latency_ms=50)
    sim.delete("/sim/stats").raise_for_status()
    planned = 400
    run_id = submit(
        evals,
        {
            "model": model,
            "tasks": ["gsm8k"],
            "limit": planned,
            "seed": 21,
            "concurrency": 4,
            "no_cache": True,
            "label": "crash",
        },
    )
    wait(evals, run_id, until=lambda r: r["status"] in TERMINAL or r["progress"]["done"] >= 100)
    stack.kill("eval-worker")
    killed = evals.get(f"/benchmarks/{run_id}").json()
    assert killed["status"] == "running", killed
    stored_at_kill = items_of(evals, run_id)["total"]
    assert 100 <= stored_at_kill < planned

    stack.start_worker("eval-worker")
    run = wait(evals, run_id, timeout_s=90)
    assert run["status"] == "succeeded", run
    assert run["attempts"] == 2
    assert run["progress"] == {"done": planned, "total": planned}

    stored = items_of(evals, run_id)
    ids = [item["id"] for item in stored["items"]]
    assert stored["total"] == planned and len(set(ids)) == planned
    all_items = asyncio.run(
        ItemLoader(mirror=dataset_mirror).items("gsm8k", load_catalog().tasks["gsm8k"])
    )
    assert set(ids) == {item.id for item in select(all_items, planned, 21)}
    results = results_of(run)
    assert results["counts"]["planned"] == results["counts"]["items"] == planned
    assert results["metrics"]["gsm8k"]["accuracy"]["n"] == planned
    lines = Path(run["result"]["items_path"]).read_text().splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(ids)
    # the second attempt asked only for what was not stored: the repeats are the replies in
    # flight or not yet flushed when the worker died, far fewer than the items already stored
    repeated = sim.get("/sim/stats").json()["by_endpoint"]["POST /api/chat"] - planned
    assert 0 <= repeated < stored_at_kill


def test_api_errors_and_cancel(
    evals: httpx.Client, model: str, sim_config: Callable[..., dict[str, Any]]
) -> None:
    unknown_model = evals.post("/benchmarks", json={"model": "no-such-model", "suite": "quick"})
    assert unknown_model.status_code == 404
    assert "no-such-model" in unknown_model.json()["error"]

    unknown_suite = evals.post("/benchmarks", json={"model": model, "suite": "enormous"})
    assert unknown_suite.status_code == 422
    assert unknown_suite.json()["error"].startswith("suite:")
    assert "enormous" in unknown_suite.json()["error"]

    unknown_task = evals.post("/benchmarks", json={"model": model, "tasks": ["gsm8k", "gsm9k"]})
    assert unknown_task.status_code == 422
    assert unknown_task.json()["error"].startswith("tasks:") and "gsm9k" in unknown_task.text

    nothing = evals.post("/benchmarks", json={"model": model})
    assert nothing.status_code == 422 and "suite" in nothing.json()["error"]

    bad_baseline = evals.post(
        "/benchmarks", json={"model": model, "suite": "quick", "compare_to": "bench_nope"}
    )
    assert bad_baseline.status_code == 422
    assert "compare_to" in bad_baseline.json()["error"]

    bad_field = evals.post("/benchmarks", json={"model": model, "suite": "quick", "limit": 0})
    assert bad_field.status_code == 422 and "limit" in bad_field.json()["error"]
    # the registration a run uses is the service's to read, never the client's to give
    forged = {"name": model, "kind": "openai", "model": "x", "base_url": "http://evil/v1"}
    smuggled = evals.post(
        "/benchmarks", json={"model": model, "suite": "quick", "registered": forged}
    )
    assert smuggled.status_code == 422 and "registered" in smuggled.json()["error"]
    assert evals.get("/benchmarks/bench_nope").status_code == 404

    sim_config(latency_ms=100)
    run_id = submit(
        evals,
        {
            "model": model,
            "tasks": ["gsm8k"],
            "limit": 200,
            "seed": 8,
            "concurrency": 2,
            "no_cache": True,
            "label": "cancelled",
        },
    )
    wait(evals, run_id, until=lambda r: r["status"] in TERMINAL or r["progress"]["done"] > 0)
    cancel = evals.delete(f"/jobs/{run_id}")
    assert cancel.status_code == 200 and cancel.json()["cancel_requested"] is True
    run = wait(evals, run_id, timeout_s=30)
    assert run["status"] == "cancelled", run
    assert items_of(evals, run_id)["total"] < 200


def test_comparison_of_two_runs(
    stack: Stack,
    evals: httpx.Client,
    model: str,
    sim_config: Callable[..., dict[str, Any]],
) -> None:
    body = {
        "model": model,
        "tasks": ["gsm8k"],
        "limit": 200,
        "seed": 1,
        "no_cache": True,
        "concurrency": 32,
    }
    sim_config(accuracy=0.5)
    baseline = wait(evals, submit(evals, {**body, "label": "cmp-baseline"}))
    assert baseline["status"] == "succeeded", baseline
    sim_config(accuracy=0.9)
    candidate = wait(
        evals, submit(evals, {**body, "label": "cmp-candidate", "compare_to": baseline["id"]})
    )
    assert candidate["status"] == "succeeded", candidate

    base_acc = results_of(baseline)["metrics"]["gsm8k"]["accuracy"]["mean"]
    cand_acc = results_of(candidate)["metrics"]["gsm8k"]["accuracy"]["mean"]
    assert base_acc < cand_acc
    label = stack.root / "outputs" / "benchmarks" / "cmp-candidate"
    folder = label / "runs" / candidate["id"]
    assert candidate["result"]["comparison_path"] == str(folder / "comparison.json")
    report = json.loads((folder / "comparison.json").read_text())
    assert json.loads((label / "comparison.json").read_text()) == report
    accuracy = report["metrics"]["gsm8k.accuracy"]
    assert accuracy["verdict"] == "improvement" and accuracy["p_value"] < 0.05
    assert accuracy["adjusted_p_value"] < 0.05 and accuracy["n_pairs"] == 200
    assert accuracy["baseline_mean"] == pytest.approx(base_acc)
    assert accuracy["candidate_mean"] == pytest.approx(cand_acc)
    assert accuracy["delta"] == pytest.approx(cand_acc - base_acc)
    # the simulator's right answers at 0.5 are a subset of those at 0.9: nothing regressed
    assert len(accuracy["improved_item_ids"]) == round((cand_acc - base_acc) * 200)
    assert accuracy["regressed_item_ids"] == []
    assert report["summary"]["improvement"][0] == "gsm8k.accuracy"
    assert report["baseline"]["run_id"] == baseline["id"]
    assert report["notes"] == []

    by_files = evals.post(
        "/comparisons",
        json={
            "baseline": baseline["result"]["results_path"],
            "candidate": candidate["result"]["results_path"],
        },
    )
    assert by_files.status_code == 201, by_files.text
    same = by_files.json()["metrics"]["gsm8k.accuracy"]
    for key in ("baseline_mean", "candidate_mean", "delta", "p_value", "ci_low", "verdict"):
        assert same[key] == accuracy[key], key
    assert sorted(same["improved_item_ids"]) == sorted(accuracy["improved_item_ids"])
    assert (
        evals.get(f"/comparisons/{by_files.json()['id']}").json()["metrics"]
        == (by_files.json()["metrics"])
    )

    cli = CliRunner().invoke(
        cli_app,
        ["bench", "compare", baseline["id"], candidate["id"]],
        env={"EVAL_SERVICE_URL": stack.url("eval-service"), "COLUMNS": "200"},
    )
    assert cli.exit_code == 0, cli.output
    line = next(row for row in cli.stdout.splitlines() if "gsm8k.accuracy" in row)
    assert "improvement" in line and f"{base_acc:.1%}" in line and f"{cand_acc:.1%}" in line

    # a baseline sharing no task: the run is kept, the comparison says why it is missing
    safety_only = wait(
        evals,
        submit(
            evals,
            {"model": model, "tasks": ["safety"], "limit": 5, "compare_to": baseline["id"]},
        ),
    )
    assert safety_only["status"] == "succeeded", safety_only
    assert "share no task" in safety_only["result"]["comparison_error"]


def test_benchmark_through_tutor_api(
    stack: Stack, tutor: httpx.Client, evals: httpx.Client
) -> None:
    created = tutor.post(
        "/models",
        json={
            "name": "sim-tutor",
            "kind": "openai",
            "base_url": stack.url("simulator") + "/v1",
            "model": "qwen3:8b",
        },
    )
    assert created.status_code == 201, created.text
    assert tutor.post("/models/sim-tutor/activate").status_code == 200

    run_id = submit(evals, {"target": "tutor-api", "tasks": ["gsm8k", "tutoring"], "limit": 5})
    run = wait(evals, run_id)
    assert run["status"] == "succeeded", run
    results = results_of(run)
    assert results["model"]["target"] == "tutor-api"
    assert results["model"]["via"] == stack.url("tutor-api")
    assert results["model"]["name"] == "sim-tutor" and results["model"]["kind"] == "openai"
    assert results["counts"] == {
        "planned": 10,
        "items": 10,
        "scored": 10,
        "errors": 0,
        "cached": 0,
    }
    assert results["metrics"]["gsm8k"]["accuracy"]["n"] == 5
    assert results["metrics"]["tutoring"]["provides_guidance_rate"]["n"] == 5
    tutoring = items_of(evals, run_id, task="tutoring")["items"]
    assert all(
        item["request"]["mode"] in ("hint", "explain", "check", "solve") for item in tutoring
    )
    assert all(item["response"] for item in tutoring)


def test_cli_bench_run_watch_follows_the_run_to_its_summary(stack: Stack, model: str) -> None:
    cli = CliRunner().invoke(
        cli_app,
        ["bench", "run", "--model", model, "--task", "gsm8k", "--limit", "6", "--watch"],
        env={"EVAL_SERVICE_URL": stack.url("eval-service"), "COLUMNS": "200"},
    )
    assert cli.exit_code == 0, cli.output
    assert "submitted" in cli.stdout and "(succeeded)" in cli.stdout
    assert "gsm8k" in cli.stdout and "results:" in cli.stdout

    # the same again reuses that run's scored items; --rescore scores the cached replies again
    with httpx.Client(base_url=stack.url("eval-service"), timeout=30) as evals:
        for flags, reused in (([], True), (["--rescore"], False)):
            again = CliRunner().invoke(
                cli_app,
                ["bench", "run", "--model", model, "--task", "gsm8k", "--limit", "6", *flags],
                env={"EVAL_SERVICE_URL": stack.url("eval-service"), "COLUMNS": "200"},
            )
            assert again.exit_code == 0, again.output
            run_id = again.stdout.split("submitted", 1)[1].split()[0]
            run = evals.get(f"/benchmarks/{run_id}", params={"wait_s": 30}).json()
            assert run["status"] == "succeeded", run
            assert ("reused_from" in results_of(run)) is reused, flags
