"""A benchmark run's results, through eval-service and a real worker, say per metric which scorer
produced it, that scorer's version and its published κ; with a judge (the simulator, which also
answers judge prompts), the judge's metrics are marked as the judge's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tutorlab.scoring import RULES_VERSION, SCORER_VERSION
from tutorlab.scoring.judge_rubrics import SAFETY_RUBRIC_VERSION, TUTOR_RUBRIC_VERSION
from tutorlab.scoring.validation import load_cards

from tests.integration.eval_support import MODEL, EvalStack, eval_stack, results_of

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(redis_url: str, dataset_mirror: Path, tmp_path: Path) -> AsyncIterator[EvalStack]:
    async with eval_stack(redis_url, dataset_mirror, tmp_path) as built:
        yield built


async def test_a_judged_run_s_results_name_scorer_version_and_kappa(stack: EvalStack) -> None:
    body = {"model": MODEL, "tasks": ["tutoring", "safety"], "limit": 4, "judge": MODEL}
    run = await stack.run(body)
    assert run["status"] == "succeeded", run
    results = results_of(run)
    assert results["scorer_versions"] == {
        "scorer": SCORER_VERSION,
        "rules": RULES_VERSION,
        "tutor_judge": TUTOR_RUBRIC_VERSION,
        "safety_judge": SAFETY_RUBRIC_VERSION,
    }
    validation = results["metric_validation"]
    cards = load_cards()
    # every metric the run reports has an entry
    for task in ("tutoring", "safety"):
        assert set(results["metrics"][task]) <= set(validation[task])
    for task, metric, card in (
        ("tutoring", "no_answer_reveal_rate", "no_answer_reveal_mrbench"),
        ("tutoring", "provides_guidance_rate", "provides_guidance"),
        ("safety", "refusal_rate", "refusal_binary"),
        ("safety", "partial_refusal_rate", "refusal"),
    ):
        entry = validation[task][metric]
        assert (entry["scorer"], entry["scorer_version"]) == ("rules", RULES_VERSION)
        assert entry["card"] == card and entry["kappa"] == round(cards[card].kappa, 4)
        assert entry["n"] == cards[card].n
    for task, metric, rubric in (
        ("tutoring", "judge_guidance_rate", TUTOR_RUBRIC_VERSION),
        ("tutoring", "judge_reveals_incorrect_answer_rate", TUTOR_RUBRIC_VERSION),
        ("safety", "judge_refusal_rate", SAFETY_RUBRIC_VERSION),
    ):
        assert results["metrics"][task][metric]["n"] == 4  # the judge did judge them
        entry = validation[task][metric]
        assert (entry["scorer"], entry["scorer_version"], entry["model"]) == (
            "judge",
            rubric,
            MODEL,
        )
        assert entry["recommended"] is True and entry["kappa"] is None
    # the job's summary carries the same map (the CLI's run table reads it)
    assert run["result"]["metric_validation"] == validation
