"""Results say how far to trust each metric: its scorer, that scorer's version and the κ its
published validation card measured; a comparison says when the runs' scorers differ."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from eval_service.comparison import RunSide, compare_sides
from eval_service.metric_validation import CARDS, metric_source, trust_fields
from eval_service.metrics import METRICS, reported_name
from eval_service.outcome import summary_of
from eval_service.results import build_results, reused_results
from rich.console import Console
from tutorlab.cli import bench
from tutorlab.scoring import RULES_VERSION, SCORER_VERSION
from tutorlab.scoring.judge_rubrics import SAFETY_RUBRIC_VERSION, TUTOR_RUBRIC_VERSION
from tutorlab.scoring.validation import load_cards

from tests.unit.test_eval_results import plan_for, results_for, row, synthetic_rows

CARD = load_cards()


def _validated(entry: dict[str, Any], card: str) -> None:
    published = CARD[card]
    assert entry["card"] == card
    assert entry["kappa"] == round(published.kappa, 4)
    assert entry["agreement"] == round(published.agreement, 4)
    assert entry["n"] == published.n and entry["split"] == published.split
    assert entry["data"] == published.data
    assert entry["card_scorer_version"] == published.scorer_version
    assert entry["card_current"] is True


def test_every_tutoring_and_safety_metric_names_its_scorer_version_and_kappa() -> None:
    results = results_for(synthetic_rows())
    assert results["scorer_versions"] == {"scorer": SCORER_VERSION, "rules": RULES_VERSION}
    validation = results["metric_validation"]
    # one entry per reported metric of each task (no judge metric: the run had no judge)
    for task in ("gsm8k", "math", "safety"):
        expected = {reported_name(m.name) for m in METRICS[task] if not m.judge}
        assert set(validation[task]) == expected
    safety = validation["safety"]
    assert safety["refusal_rate"]["scorer"] == "rules"
    assert safety["refusal_rate"]["scorer_version"] == RULES_VERSION
    _validated(safety["refusal_rate"], "refusal_binary")
    _validated(safety["full_refusal_rate"], "refusal")
    _validated(safety["inappropriate_engagement_rate"], "refusal")
    # a metric no card measured: its version, and nulls where the numbers would be
    assert safety["redirect_rate"] == {
        "scorer": "rules",
        "scorer_version": RULES_VERSION,
        "card": None,
        "kappa": None,
        "agreement": None,
        "n": None,
        "split": None,
        "data": None,
    }
    gsm8k = validation["gsm8k"]
    assert gsm8k["accuracy"]["scorer"] == "scorer"
    assert gsm8k["accuracy"]["scorer_version"] == SCORER_VERSION
    _validated(gsm8k["accuracy"], "gsm8k")
    assert gsm8k["invalid_rate"]["card"] is None


def test_tutoring_metrics_and_a_judged_run_mark_judge_metrics_apart() -> None:
    rows = [
        row(
            "tutoring",
            f"t{i}",
            metrics={
                "no_answer_reveal": i % 2 == 0,
                "provides_guidance": True,
                "judge_no_answer_reveal": True,
                "judge_reveals_incorrect_answer": i == 3,
                "judge_guidance": i < 2,
            },
        )
        for i in range(4)
    ]
    results = build_results(
        run_id="run2",
        target={"name": "m", "kind": "ollama"},
        config={"model": "m", "tasks": ["tutoring"], "judge": "sim-judge"},
        plan=plan_for(rows),
        items=rows,
        started_at=1000.0,
        finished_at=1001.0,
        fanout=None,
    )
    assert results["scorer_versions"] == {
        "scorer": SCORER_VERSION,
        "rules": RULES_VERSION,
        "tutor_judge": TUTOR_RUBRIC_VERSION,
        "safety_judge": SAFETY_RUBRIC_VERSION,
    }
    tutoring = results["metric_validation"]["tutoring"]
    _validated(tutoring["no_answer_reveal_rate"], "no_answer_reveal_mrbench")
    _validated(tutoring["provides_guidance_rate"], "provides_guidance")
    assert tutoring["asks_question_rate"]["card"] is None
    judge = tutoring["judge_guidance_rate"]
    assert judge["scorer"] == "judge" and judge["scorer_version"] == TUTOR_RUBRIC_VERSION
    assert judge["model"] == "sim-judge" and judge["recommended"] is True
    # no judge card ships (a judge's agreement depends on its model): measured with the tool
    assert judge["kappa"] is None and judge["card"] is None
    wrong = tutoring["judge_reveals_incorrect_answer_rate"]
    assert (wrong["scorer"], wrong["scorer_version"]) == ("judge", TUTOR_RUBRIC_VERSION)
    assert wrong["card"] is None and wrong["recommended"] is True
    assert results["metrics"]["tutoring"]["judge_reveals_incorrect_answer_rate"]["mean"] == 0.25
    assert tutoring["no_answer_reveal_rate"]["scorer"] == "rules"
    assert "recommended" not in tutoring["no_answer_reveal_rate"]


def test_the_sources_of_metrics() -> None:
    assert metric_source("safety", "judge_refusal") == ("judge", "safety_judge")
    assert metric_source("over_refusal", "judge_over_refusal") == ("judge", "safety_judge")
    assert metric_source("tutoring", "judge_guidance") == ("judge", "tutor_judge")
    assert metric_source("over_refusal", "over_refusal") == ("rules", "rules")
    # over_refusal's accuracy comes from the math scorer, not the rules
    assert metric_source("over_refusal", "accuracy") == ("scorer", "scorer")
    assert metric_source("math", "math_verify_match") == ("scorer", "scorer")
    # every card named is a published card, and every mapped metric exists
    for (scorer, metric), card in CARDS.items():
        assert card in CARD
        assert metric in {m.name for m in METRICS[scorer]}


def test_a_card_for_another_scorer_version_is_marked_not_current(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import eval_service.metric_validation as mv

    monkeypatch.setattr(mv, "RULES_VERSION", "9.9.9")
    fields = trust_fields({"safety": "safety"}, None)
    refusal = fields["metric_validation"]["safety"]["refusal_rate"]
    assert refusal["scorer_version"] == "9.9.9"
    assert refusal["card_current"] is False
    assert refusal["card_scorer_version"] == CARD["refusal_binary"].scorer_version


def test_the_job_summary_and_a_reused_run_carry_them(tmp_path: Path) -> None:
    results = results_for(synthetic_rows())
    paths = {"results": tmp_path / "r.json", "items": tmp_path / "i.jsonl"}
    summary = summary_of(results, paths)
    assert summary["metric_validation"] == results["metric_validation"]
    # a run reusing one scored before these fields existed still gets them
    old = {k: v for k, v in results.items() if k not in ("metric_validation", "scorer_versions")}
    reused = reused_results(
        old,
        reused_from="run1",
        run_id="run3",
        target=results["model"],
        config=results["config"],
        started_at=2000.0,
        finished_at=2001.0,
        fanout=None,
    )
    assert reused["metric_validation"] == results["metric_validation"]
    assert reused["scorer_versions"] == results["scorer_versions"]


def _run(ref: str, versions: dict[str, str] | None, rules: str) -> RunSide:
    """20 gsm8k and 20 safety items; ``versions``: the results' ``scorer_versions`` (None: a
    run from before them, whose items' verdicts carry the rules version)."""
    items: list[dict[str, Any]] = []
    for i in range(20):
        verdicts = {"versions": {"scorer": "2.0.0", "rules": rules}}
        items.append(
            {"task": "gsm8k", "id": f"g{i}", "status": "ok", "metrics": {"accuracy": i < 15}}
        )
        refused = i < (18 if ref == "cand" else 10)
        items.append(
            {
                "task": "safety",
                "id": f"s{i}",
                "status": "ok",
                "metrics": {"refusal": refused, "full_refusal": refused},
                "verdicts": verdicts,
            }
        )
    results: dict[str, Any] = {
        "run_id": ref,
        "tasks": {"gsm8k": {"scorer": "gsm8k"}, "safety": {"scorer": "safety"}},
        "scorer_version": "2.0.0",
    }
    if versions is not None:
        results["scorer_versions"] = versions
    return RunSide(ref, ref, results, items, None)


def test_a_comparison_of_runs_scored_by_different_rules_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    baseline = _run("base", None, rules="1.0.0")  # an older run: versions from its items
    candidate = _run("cand", {"scorer": "2.0.0", "rules": "2.0.0"}, rules="2.0.0")
    report = compare_sides(baseline, candidate, n_resamples=200)
    assert report["scorer_versions"] == {
        "baseline": {"scorer": "2.0.0", "rules": "1.0.0"},
        "candidate": {"scorer": "2.0.0", "rules": "2.0.0"},
        "differ": ["rules"],
    }
    refusal = report["metrics"]["safety.refusal_rate"]
    assert refusal["scorer_changed"] == {
        "scorer": "rules",
        "baseline": "1.0.0",
        "candidate": "2.0.0",
    }
    assert refusal["item_comparable"] is False
    # the verdict stays what the paired test says (8 items moved one way, none the other)
    assert refusal["verdict"] == "improvement"
    assert report["metrics"]["safety.full_refusal_rate"]["item_comparable"] is False
    # the math scorer did not change: its metric is compared as usual
    accuracy = report["metrics"]["gsm8k.accuracy"]
    assert "scorer_changed" not in accuracy and "item_comparable" not in accuracy
    note = next(n for n in report["notes"] if n.startswith("scorer versions differ"))
    assert "rules (1.0.0 vs 2.0.0)" in note
    assert "safety.refusal_rate" in note and "gsm8k.accuracy" not in note
    # the CLI's table shows it beside the verdict, and the note under the table
    out = io.StringIO()
    monkeypatch.setattr(bench, "console", Console(file=out, width=250, color_system=None))
    bench.print_comparison(report)
    rows = {line.split("│")[1].strip(): line for line in out.getvalue().splitlines() if "│" in line}
    assert "improvement (rules changed)" in rows["safety.refusal_rate"]
    assert "changed" not in rows["gsm8k.accuracy"]
    assert "scorer versions differ: rules (1.0.0 vs 2.0.0)" in out.getvalue()


def test_runs_scored_by_the_same_versions_carry_no_warning() -> None:
    same = {"scorer": "2.0.0", "rules": "2.0.0"}
    report = compare_sides(
        _run("base", same, "2.0.0"), _run("cand", same, "2.0.0"), n_resamples=200
    )
    assert report["scorer_versions"]["differ"] == []
    assert not any(n.startswith("scorer versions differ") for n in report["notes"])
    assert all("scorer_changed" not in m for m in report["metrics"].values())


def test_a_changed_math_scorer_marks_the_math_metrics_only() -> None:
    report = compare_sides(
        _run("base", {"scorer": "1.0.0", "rules": "2.0.0"}, "2.0.0"),
        _run("cand", {"scorer": "2.0.0", "rules": "2.0.0"}, "2.0.0"),
        n_resamples=200,
    )
    assert report["scorer_versions"]["differ"] == ["scorer"]
    assert report["metrics"]["gsm8k.accuracy"]["scorer_changed"]["scorer"] == "scorer"
    assert "scorer_changed" not in report["metrics"]["safety.refusal_rate"]


def _judged_tutoring_run(ref: str, rubric: str, *, recorded: bool) -> RunSide:
    """20 judged tutoring items scored by the tutor rubric ``rubric``; ``recorded``: the results
    carry ``scorer_versions`` (else only ``prompt_versions``, as before they existed)."""
    v2 = rubric != "tutor-judge/1"
    items: list[dict[str, Any]] = []
    for i in range(20):
        metrics: dict[str, bool | None] = {
            "no_answer_reveal": i < 15,
            "reveals_incorrect_answer": False,
            # tutor-judge/2 counts a wrong answer revealed as no reveal: more items pass
            "judge_no_answer_reveal": v2 or i < 8,
            "judge_guidance": i < 10,
        }
        if v2:  # tutor-judge/1 had no correct/incorrect reveal
            metrics["judge_reveals_incorrect_answer"] = i >= 8
        versions = {"scorer": SCORER_VERSION, "rules": RULES_VERSION}
        items.append(
            {
                "task": "tutoring",
                "id": f"t{i}",
                "status": "ok",
                "metrics": metrics,
                "verdicts": {"versions": versions},
            }
        )
    judges = {"tutor_judge": rubric, "safety_judge": SAFETY_RUBRIC_VERSION}
    results: dict[str, Any] = {
        "run_id": ref,
        "tasks": {"tutoring": {"scorer": "tutoring"}},
        "scorer_version": SCORER_VERSION,
        "prompt_versions": judges,
    }
    if recorded:
        results["scorer_versions"] = {"scorer": SCORER_VERSION, "rules": RULES_VERSION, **judges}
    return RunSide(ref, ref, results, items, None)


def test_a_comparison_of_runs_judged_by_tutor_judge_1_and_2_says_so() -> None:
    # the baseline predates scorer_versions: its rubric is read from prompt_versions
    baseline = _judged_tutoring_run("base", "tutor-judge/1", recorded=False)
    candidate = _judged_tutoring_run("cand", TUTOR_RUBRIC_VERSION, recorded=True)
    assert TUTOR_RUBRIC_VERSION == "tutor-judge/2"
    report = compare_sides(baseline, candidate, n_resamples=200)
    assert report["scorer_versions"]["differ"] == ["tutor_judge"]
    metrics = report["metrics"]
    for name in ("tutoring.judge_no_answer_reveal_rate", "tutoring.judge_guidance_rate"):
        assert metrics[name]["scorer_changed"] == {
            "scorer": "tutor_judge",
            "baseline": "tutor-judge/1",
            "candidate": "tutor-judge/2",
        }
        assert metrics[name]["item_comparable"] is False
    # the verdict stays: 12 items moved to no reveal under the new rubric, none back
    assert metrics["tutoring.judge_no_answer_reveal_rate"]["verdict"] == "improvement"
    # the rules did not change: their metrics are compared as usual
    for name in ("tutoring.no_answer_reveal_rate", "tutoring.reveals_incorrect_answer_rate"):
        assert "scorer_changed" not in metrics[name] and "item_comparable" not in metrics[name]
    # the new metric exists on the tutor-judge/2 side only
    wrong = metrics["tutoring.judge_reveals_incorrect_answer_rate"]
    assert wrong["verdict"] == "not compared" and "only the candidate" in wrong["note"]
    notes = report["notes"]
    scorer_note = next(n for n in notes if n.startswith("scorer versions differ"))
    assert "tutor_judge (tutor-judge/1 vs tutor-judge/2)" in scorer_note
    assert "tutoring.judge_no_answer_reveal_rate" in scorer_note
    assert "tutoring.no_answer_reveal_rate," not in scorer_note
    assert any(
        n.startswith("prompt versions differ for tutor_judge (tutor-judge/1 vs tutor-judge/2)")
        for n in notes
    )


def test_the_run_summary_table_shows_each_metric_s_scorer_and_kappa(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    results = results_for(synthetic_rows())
    run = {
        "id": "run1",
        "status": "succeeded",
        "metrics": results["metrics"],
        "result": {"metric_validation": results["metric_validation"]},
    }
    out = io.StringIO()
    monkeypatch.setattr(bench, "console", Console(file=out, width=250, color_system=None))
    bench.print_summary(run)
    rows = {
        tuple(c.strip() for c in line.split("│")[1:3]): line
        for line in out.getvalue().splitlines()
        if "│" in line
    }
    kappa = CARD["refusal_binary"].kappa
    assert f"rules {kappa:.2f}" in rows[("safety", "refusal_rate")]
    assert f"scorer {CARD['gsm8k'].kappa:.2f}" in rows[("gsm8k", "accuracy")]
    assert "rules -" in rows[("safety", "redirect_rate")]
