"""The tutoring metrics of rules 2.0.0 in results and comparisons, next to runs of rules 1.x."""

from __future__ import annotations

from eval_service.comparison import compare_sides
from eval_service.judge import AGREEMENT_PAIRS
from eval_service.metrics import METRICS
from eval_service.models import BenchmarkItem
from eval_service.results import task_metrics
from tutorlab.scoring.tasks import ScoreInput, score_task

from tests.unit.test_eval_results import tutoring_side

QUESTION = "Tom has 3 apples and buys 4 more. How many apples does he have?"


async def test_a_tutoring_result_reports_the_new_metrics() -> None:
    replies = [
        "Not quite: Tom ends up with 3 + 4 = 7 apples.",
        "How many apples did Tom buy?",
        "So the answer is 8.",
        "Can you tell me more?\nStudent: I am not sure.\nTutor: Think again.",
    ]
    scored = await score_task(
        "tutoring", [ScoreInput(r, "7", [QUESTION, "Is it 6?"]) for r in replies], None
    )
    assert [headline for _, headline in scored] == [
        "revealed",
        "guidance",
        "reveals_incorrect_answer",
        "no_guidance",
    ]
    items = [
        BenchmarkItem(
            run_id="r", task="tutoring", item_id=str(i), status="ok", verdicts=verdicts, usage={}
        )
        for i, (verdicts, _) in enumerate(scored)
    ]
    metrics = task_metrics("tutoring", items)
    assert {name: m["mean"] for name, m in metrics.items()} == {
        "no_answer_reveal_rate": 0.75,
        "reveals_incorrect_answer_rate": 0.25,
        "provides_guidance_rate": 0.25,
        "asks_question_rate": 0.5,
        "invented_turns_rate": 0.25,
    }
    assert all(m["n"] == 4 for m in metrics.values())
    assert "socratic_step" not in {m.name for m in METRICS["tutoring"]}
    assert AGREEMENT_PAIRS["judge_guidance"] == "provides_guidance"
    assert AGREEMENT_PAIRS["judge_reveals_incorrect_answer"] == "reveals_incorrect_answer"


def test_an_old_run_with_socratic_step_compares_without_crashing() -> None:
    old = {f"t{i}": {"no_answer_reveal": i < 10, "socratic_step": i < 5} for i in range(20)}
    new = {
        f"t{i}": {"no_answer_reveal": i < 12, "provides_guidance": True, "asks_question": i < 9}
        for i in range(20)
    }
    report = compare_sides(tutoring_side("old", old), tutoring_side("new", new))
    metrics = report["metrics"]
    assert metrics["tutoring.no_answer_reveal_rate"]["n_pairs"] == 20
    guidance = metrics["tutoring.provides_guidance_rate"]
    assert guidance["verdict"] == "not compared" and "only the candidate" in guidance["note"]
    assert not any("socratic_step" in name for name in metrics)
    # two runs of rules 1.x still compare on what both have
    both_old = compare_sides(tutoring_side("a", old), tutoring_side("b", old))
    assert both_old["metrics"]["tutoring.no_answer_reveal_rate"]["n_pairs"] == 20
