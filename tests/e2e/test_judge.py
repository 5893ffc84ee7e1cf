"""The LLM judge end to end: the simulator is both the tutor under test and the judge.

The simulator's judge mode answers eval-service's rubric prompts with JSON computed from the
prompt, and at ``judge_error_rate`` 1 with prose only, so a judged run's numbers, agreement with
the rule scorers, and judge errors are all checked through the real services and worker.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tutorlab.dev.devstack import Stack

from tests.e2e.test_benchmarks import items_of, results_of, submit, wait

pytestmark = pytest.mark.e2e

TUTOR = "sim-tutor-judged"
JUDGE = "sim-judge"
JUDGED_TASKS = ("tutoring", "safety")
#: fields PUT /sim/config may not change
FIXED_SIM_FIELDS = {"host", "port", "dataset_mirror"}


def register(tutor: httpx.Client, name: str, kind: str, base_url: str) -> None:
    response = tutor.post(
        "/models", json={"name": name, "kind": kind, "base_url": base_url, "model": "qwen3:8b"}
    )
    assert response.status_code == 201, response.text


def judged_items(evals: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    items = [item for task in JUDGED_TASKS for item in items_of(evals, run_id, task=task)["items"]]
    assert len(items) == 40 and all(item["status"] == "ok" for item in items)
    return items


def test_benchmark_with_the_simulator_as_judge(
    stack: Stack, tutor: httpx.Client, evals: httpx.Client, sim: httpx.Client
) -> None:
    # the tutor over Ollama's API, the judge over OpenAI's: both wire formats carry judge mode
    register(tutor, TUTOR, "ollama", stack.url("simulator"))
    register(tutor, JUDGE, "openai", stack.url("simulator") + "/v1")
    saved = {k: v for k, v in sim.get("/sim/config").json().items() if k not in FIXED_SIM_FIELDS}
    body = {
        "model": TUTOR,
        "tasks": list(JUDGED_TASKS),
        "limit": 20,
        "judge": JUDGE,
        "no_cache": True,  # the tutor's replies and the judge's verdicts both asked afresh
    }
    try:
        # leaks and compliance on about half the items, so both raters vary and kappa exists
        sim.put(
            "/sim/config", json={"tutoring_leak_rate": 0.5, "refusal_rate": 0.5}
        ).raise_for_status()
        sim.delete("/sim/stats").raise_for_status()
        run = wait(evals, submit(evals, {**body, "label": "judged"}))
        assert run["status"] == "succeeded", run
        results = results_of(run)
        assert results["counts"]["items"] == 40 and results["counts"]["errors"] == 0
        assert results["config"]["judge"] == JUDGE
        assert results["prompt_versions"]["tutor_judge"] == "tutor-judge/2"
        assert results["prompt_versions"]["safety_judge"] == "safety-judge/1"
        metrics = results["metrics"]
        assert metrics["tutoring"]["judge_no_answer_reveal_rate"]["n"] == 20
        assert metrics["tutoring"]["judge_guidance_rate"]["n"] == 20
        assert metrics["tutoring"]["judge_reveals_incorrect_answer_rate"]["n"] == 20
        assert metrics["safety"]["judge_refusal_rate"]["n"] == 20
        assert results["judge"]["model"] == JUDGE
        agreement = results["judge"]["agreement"]
        tutoring = agreement["tutoring"]["no_answer_reveal_rate vs judge_no_answer_reveal_rate"]
        safety = agreement["safety"]["refusal_rate vs judge_refusal_rate"]
        for pair in (tutoring, safety):
            assert pair["n"] == 20
            assert pair["agreement"] is not None and pair["kappa"] is not None
            assert (
                pair["both_true"] + pair["first_only"] + pair["second_only"] + pair["both_false"]
                == 20
            )
        # the simulator refuses with a plain decline and complies without one: the refusal
        # rule and the judge see the same thing on every item
        assert safety["agreement"] == 1.0 and safety["kappa"] == pytest.approx(1.0)
        # the judge's reveal rule is the rule scorer's in simpler words: they (nearly) agree
        assert tutoring["agreement"] >= 0.9
        assert metrics["safety"]["judge_refusal_rate"] == metrics["safety"]["refusal_rate"]

        items = judged_items(evals, run["id"])
        for item in items:
            judge = item["verdicts"]["judge"]
            assert judge["model"] == JUDGE and "error" not in judge, item
            assert judge["rubric"] in ("tutor-judge/2", "safety-judge/1")
        stats = sim.get("/sim/stats").json()["by_outcome"]
        assert stats["judged"] == 40 and "judge_error" not in stats

        unknown = evals.post("/benchmarks", json={**body, "judge": "no-such-judge"})
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["error"].startswith("judge:")
        assert "no-such-judge" in unknown.json()["error"]

        # a judge that never answers in JSON: the run stands, the judge's numbers are absent
        sim.put("/sim/config", json={"judge_error_rate": 1.0}).raise_for_status()
        broken = wait(evals, submit(evals, {**body, "label": "judged-broken"}))
        assert broken["status"] == "succeeded", broken
        broken_results = results_of(broken)
        assert broken_results["counts"]["errors"] == 0
        for task, metric in (
            ("tutoring", "judge_no_answer_reveal_rate"),
            ("tutoring", "judge_guidance_rate"),
            ("tutoring", "judge_reveals_incorrect_answer_rate"),
            ("safety", "judge_refusal_rate"),
        ):
            assert broken_results["metrics"][task].get(metric, {"n": 0})["n"] == 0
        assert broken_results["judge"]["agreement"] == {}
        # the rule scorers are untouched by the judge's failure
        assert (
            broken_results["metrics"]["safety"]["refusal_rate"] == metrics["safety"]["refusal_rate"]
        )
        for item in judged_items(evals, broken["id"]):
            judge = item["verdicts"]["judge"]
            assert judge["error"].startswith("unparseable judge reply"), item
            assert "labels" not in judge
            assert all(
                value is None
                for name, value in item["metrics"].items()
                if name.startswith("judge_")
            )
    finally:
        sim.put("/sim/config", json=saved).raise_for_status()
