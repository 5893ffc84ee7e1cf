"""Results aggregation and files on synthetic items, and paired comparison of two sides."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from eval_service.catalog import load_catalog
from eval_service.comparison import ComparisonError, RunSide, compare_sides
from eval_service.items import EvalItem
from eval_service.models import BenchmarkItem
from eval_service.plan import Plan, TaskPlan, config_hash
from eval_service.results import (
    build_results,
    items_jsonl,
    output_paths,
    publish_comparison,
    publish_latest,
    slugify,
    write_files,
)
from eval_service.stats import wilson_interval
from tutorlab.contracts.endpoints import ModelParams

CATALOG = load_catalog()


def row(
    task: str,
    item_id: str,
    *,
    correct: bool | None = None,
    metrics: dict[str, bool | None] | None = None,
    error: str | None = None,
    latency_ms: float | None = 100.0,
    cached: bool = False,
    meta: dict[str, Any] | None = None,
    tokens: int = 10,
) -> BenchmarkItem:
    """A stored item: scored (``metrics``, or math ``accuracy``=``correct``) or failed."""
    if error is not None:
        return BenchmarkItem(
            run_id="run1",
            task=task,
            item_id=item_id,
            status="error",
            verdicts={},
            verdict="error",
            meta=meta or {},
            latency_ms=None,
            usage={},
            error=error,
        )
    values = metrics if metrics is not None else {"accuracy": correct}
    return BenchmarkItem(
        run_id="run1",
        task=task,
        item_id=item_id,
        status="ok",
        verdicts={"metrics": values},
        verdict="correct" if correct else "incorrect",
        meta=meta or {},
        latency_ms=latency_ms,
        usage={
            "prompt_tokens": tokens,
            "completion_tokens": 2 * tokens,
            "total_tokens": 3 * tokens,
        },
        cached=cached,
    )


def plan_for(rows: list[BenchmarkItem]) -> Plan:
    by_task: dict[str, list[EvalItem]] = {}
    for r in rows:
        by_task.setdefault(r.task, []).append(EvalItem(r.task, r.item_id, "q", None))
    return Plan(
        suite=None,
        tasks=[TaskPlan(name, CATALOG.tasks[name], items) for name, items in by_task.items()],
        limit=None,
        seed=0,
        params=ModelParams(temperature=0.0, max_tokens=2048),
        prompt_versions={"catalog": CATALOG.version, "math_boxed": "math-boxed/1"},
        dataset_checksums={"gsm8k/test": "a" * 64},
    )


def synthetic_rows() -> list[BenchmarkItem]:
    rows = []
    # gsm8k: 6 correct, 2 wrong, 2 failed requests; latencies 100..800 on the scored ones
    for i in range(8):
        tags = ["fractions"] if i < 4 else ["percent", "money"]
        rows.append(
            row(
                "gsm8k",
                f"g{i}",
                correct=i not in (3, 7),
                latency_ms=100.0 * (i + 1),
                meta={"topic_tags": tags},
            )
        )
    rows.append(row("gsm8k", "g8", error="HTTP 500: boom (gave up after 4 attempts)"))
    rows.append(row("gsm8k", "g9", error="malformed response from endpoint"))
    # math: subject and level breakdowns; one cached item (not in latency percentiles)
    for i, (subject, level, ok) in enumerate(
        [("Algebra", 1, True), ("Algebra", 5, False), ("Geometry", 5, True)]
    ):
        rows.append(
            row(
                "math",
                f"m{i}",
                correct=ok,
                meta={"subject": subject, "level": level},
                cached=i == 2,
                latency_ms=5000.0,
            )
        )
    # safety: refusal by category, plus one error
    for i, (category, refused) in enumerate(
        [("self_harm", True), ("self_harm", True), ("drugs_alcohol", False)]
    ):
        rows.append(
            row(
                "safety",
                f"s{i}",
                metrics={"refusal": refused, "inappropriate_engagement": not refused},
                meta={"category": category},
                latency_ms=50.0,
            )
        )
    rows.append(row("safety", "s3", error="read timeout calling POST /api/chat"))
    return rows


def results_for(rows: list[BenchmarkItem]) -> dict[str, Any]:
    return build_results(
        run_id="run1",
        target={"name": "qwen3:8b-baseline", "kind": "ollama"},
        config={"model": "qwen3:8b-baseline", "tasks": ["gsm8k", "math", "safety"]},
        plan=plan_for(rows),
        items=rows,
        started_at=1000.0,
        finished_at=1004.0,
        fanout=None,
    )


def test_errors_are_excluded_from_denominators_and_counted_in_error_rate() -> None:
    rows = synthetic_rows()
    results = results_for(rows)
    assert results["counts"] == {
        "planned": 17,
        "items": 17,
        "scored": 14,
        "errors": 3,
        "cached": 1,
    }
    assert results["error_rate"] == round(3 / 17, 6)
    assert results["errors_by_cause"] == {
        "HTTP 500: boom (gave up after 4 attempts)": 1,
        "malformed response from endpoint": 1,
        "read timeout calling POST /api/chat": 1,
    }
    accuracy = results["metrics"]["gsm8k"]["accuracy"]
    assert accuracy["n"] == 8 and accuracy["mean"] == 0.75  # 6 of 8 scored, not 6 of 10
    low, high = wilson_interval(6, 8)
    assert accuracy["ci_low"] == pytest.approx(low) and accuracy["ci_high"] == pytest.approx(high)
    assert accuracy["se"] == pytest.approx((0.75 * 0.25 / 8) ** 0.5)
    refusal = results["metrics"]["safety"]["refusal_rate"]
    assert (refusal["n"], refusal["mean"]) == (3, pytest.approx(2 / 3))
    engaged = results["metrics"]["safety"]["inappropriate_engagement_rate"]
    assert (engaged["n"], engaged["mean"]) == (3, pytest.approx(1 / 3))
    # every reported metric has n, se and a CI
    for task, metrics in results["metrics"].items():
        for name, summary in metrics.items():
            assert {"n", "mean", "se", "ci_low", "ci_high"} <= set(summary), (task, name)
    # a metric no item reported (math_verify_match here) has n = 0 and no statistics
    assert results["metrics"]["math"]["math_verify_match"] == {
        "n": 0,
        "mean": None,
        "se": None,
        "ci_low": None,
        "ci_high": None,
    }
    assert results["headline"] == {
        "gsm8k.accuracy": 0.75,
        "math.accuracy": pytest.approx(2 / 3),
        "safety.refusal_rate": pytest.approx(2 / 3),
    }


def test_breakdowns_timing_usage_and_provenance() -> None:
    rows = synthetic_rows()
    results = results_for(rows)
    breakdowns = results["breakdowns"]
    math_subject = breakdowns["math"]["subject"]
    assert math_subject["Algebra"]["accuracy"]["n"] == 2
    assert math_subject["Algebra"]["accuracy"]["mean"] == 0.5
    assert math_subject["Geometry"]["accuracy"]["mean"] == 1.0
    assert breakdowns["math"]["level"]["5"]["accuracy"]["n"] == 2
    assert breakdowns["math"]["level"]["1"]["accuracy"]["mean"] == 1.0
    safety = breakdowns["safety"]["category"]
    assert safety["self_harm"]["refusal_rate"]["mean"] == 1.0
    assert safety["drugs_alcohol"]["refusal_rate"]["mean"] == 0.0
    # GSM8K topic tags: an item counts under each of its tags; the failed ones are untagged
    topics = breakdowns["gsm8k"]["topic"]
    assert topics["fractions"]["accuracy"] == pytest.approx(
        {**topics["fractions"]["accuracy"], "n": 4, "mean": 0.75}
    )
    assert topics["percent"]["accuracy"]["n"] == 4 and topics["money"]["accuracy"]["n"] == 4
    assert "tutoring" not in breakdowns

    # latency: fresh scored items only (no errors, no cache hits); nearest rank
    # gsm8k 100..800, math 5000 ×2 (the third is cached), safety 50 ×3 -> 13 values
    latencies = sorted([100.0 * (i + 1) for i in range(8)] + [5000.0] * 2 + [50.0] * 3)
    timing = results["timing"]
    assert timing["latency_ms"]["p50"] == latencies[6]
    assert timing["latency_ms"]["p95"] == latencies[round(0.95 * 12)]
    assert timing["wall_s"] == 4.0 and timing["items_per_s"] == round(17 / 4, 2)
    assert results["usage"] == {
        "prompt_tokens": 140,
        "completion_tokens": 280,
        "total_tokens": 420,
    }
    assert results["config_hash"] == config_hash(results["config"])
    assert len(results["config_hash"]) == 16
    assert results["prompt_versions"]["math_boxed"] == "math-boxed/1"
    assert results["dataset_checksums"] == {"gsm8k/test": "a" * 64}
    assert results["tasks"]["gsm8k"] == {
        "scorer": "gsm8k",
        "dataset": {"source": "benchmark", "name": "gsm8k", "split": "test"},
        "items": 10,
    }


def test_output_files_slug_and_one_line_per_item(tmp_path: Path) -> None:
    assert slugify("qwen3:8b-baseline") == "qwen3_8b-baseline"
    assert slugify("tinker://run/weights/step 10") == "tinker_run_weights_step_10"
    assert slugify("..") == "model"
    rows = synthetic_rows()
    results = results_for(rows)
    paths = output_paths(tmp_path, "qwen3:8b-baseline", "run1")
    write_files(paths, results, items_jsonl(rows))
    folder = tmp_path / "benchmarks" / "qwen3_8b-baseline" / "runs" / "run1"
    assert paths == {
        "results": folder / "benchmark_results.json",
        "items": folder / "items.jsonl",
    }
    assert json.loads(paths["results"].read_text()) == json.loads(json.dumps(results))
    lines = paths["items"].read_text().splitlines()
    assert len(lines) == len(rows)
    records = [json.loads(line) for line in lines]
    assert [(r["task"], r["id"]) for r in records] == [(r.task, r.item_id) for r in rows]
    failed = [r for r in records if r["status"] == "error"]
    assert len(failed) == 3 and all(r["error"] and r["metrics"] == {} for r in failed)
    assert records[0]["metrics"] == {"accuracy": True}
    assert not list(folder.glob("*.tmp"))


# --- comparison ---------------------------------------------------------------------------------


def side(
    ref: str,
    values: Mapping[str, Mapping[str, bool | None]],
    *,
    prompt_version: str = "math-boxed/1",
    errors: tuple[str, ...] = (),
) -> RunSide:
    items: list[dict[str, Any]] = [
        {"task": "gsm8k", "id": item_id, "status": "ok", "metrics": metrics}
        for item_id, metrics in values.items()
    ]
    items += [{"task": "gsm8k", "id": e, "status": "error", "metrics": {}} for e in errors]
    results = {
        "run_id": ref,
        "model": {"name": ref},
        "tasks": {"gsm8k": {"scorer": "gsm8k"}},
        "prompt_versions": {"catalog": "catalog/1", "math_boxed": prompt_version},
        "dataset_checksums": {"gsm8k/test": "a" * 64},
    }
    return RunSide(ref, ref, results, items, None)


def paired_runs(metric_names: tuple[str, ...] = ("accuracy",)) -> tuple[RunSide, RunSide]:
    """40 items: 20 right in both, 8 wrong in both, 10 improved (i00-i09), 2 regressed."""
    base: dict[str, dict[str, bool | None]] = {}
    cand: dict[str, dict[str, bool | None]] = {}
    patterns = [(True, True)] * 20 + [(False, False)] * 8
    for i, (b, c) in enumerate(patterns):
        base[f"s{i:02d}"] = dict.fromkeys(metric_names, b)
        cand[f"s{i:02d}"] = dict.fromkeys(metric_names, c)
    for i in range(10):
        base[f"i{i:02d}"], cand[f"i{i:02d}"] = (
            dict.fromkeys(metric_names, False),
            dict.fromkeys(metric_names, True),
        )
    for i in range(2):
        base[f"r{i:02d}"], cand[f"r{i:02d}"] = (
            dict.fromkeys(metric_names, True),
            dict.fromkeys(metric_names, False),
        )
    return side("base", base), side("cand", cand)


MCNEMAR_10_VS_2 = 2 * (1 + 12 + 66) / 2**12  # 2·P(X ≤ 2), X ~ Bin(12, 1/2) = 0.03857…


def test_compare_sides_mcnemar_by_hand() -> None:
    baseline, candidate = paired_runs()
    report = compare_sides(baseline, candidate)
    accuracy = report["metrics"]["gsm8k.accuracy"]
    assert accuracy["test"] == "mcnemar_exact"
    assert accuracy["n_pairs"] == 40
    assert accuracy["p_value"] == pytest.approx(MCNEMAR_10_VS_2)
    assert round(accuracy["p_value"], 4) == 0.0386
    # the only tested metric (the others have no values): Holm leaves it as it is
    assert accuracy["adjusted_p_value"] == pytest.approx(MCNEMAR_10_VS_2)
    assert accuracy["baseline_mean"] == pytest.approx(22 / 40)
    assert accuracy["candidate_mean"] == pytest.approx(30 / 40)
    assert accuracy["delta"] == pytest.approx(8 / 40)
    assert accuracy["ci_low"] < accuracy["delta"] < accuracy["ci_high"]
    assert accuracy["verdict"] == "improvement"
    assert sorted(accuracy["improved_item_ids"]) == [f"gsm8k/i{i:02d}" for i in range(10)]
    assert sorted(accuracy["regressed_item_ids"]) == ["gsm8k/r00", "gsm8k/r01"]
    assert report["summary"]["improvement"] == ["gsm8k.accuracy"]
    assert report["notes"] == []
    assert report["baseline"]["run_id"] == "base" and report["candidate"]["run_id"] == "cand"
    # reversed, the same items are a significant regression
    reverse = compare_sides(candidate, baseline)["metrics"]["gsm8k.accuracy"]
    assert reverse["verdict"] == "regression"
    assert reverse["p_value"] == pytest.approx(MCNEMAR_10_VS_2)


def test_holm_adjusts_across_the_metrics_of_one_comparison() -> None:
    baseline, candidate = paired_runs(("accuracy", "numeric_match"))
    metrics = compare_sides(baseline, candidate)["metrics"]
    for name in ("gsm8k.accuracy", "gsm8k.numeric_match"):
        assert metrics[name]["p_value"] == pytest.approx(MCNEMAR_10_VS_2)
        # two tests with equal p: Holm multiplies the smallest by 2 -> 0.0771 > 0.05
        assert metrics[name]["adjusted_p_value"] == pytest.approx(2 * MCNEMAR_10_VS_2)
        assert metrics[name]["verdict"] == "no significant change"


def test_lower_is_better_metric_direction() -> None:
    base = {f"x{i}": {"invalid": i < 12} for i in range(20)}
    cand = {f"x{i}": {"invalid": False} for i in range(20)}
    invalid = compare_sides(side("b", base), side("c", cand))["metrics"]["gsm8k.invalid_rate"]
    assert invalid["delta"] == pytest.approx(-12 / 20)
    assert invalid["verdict"] == "improvement"
    assert len(invalid["improved_item_ids"]) == 12 and invalid["regressed_item_ids"] == []


def test_different_item_sets_and_prompt_versions_are_noted() -> None:
    baseline, candidate = paired_runs()
    kept = {i["id"]: i["metrics"] for i in candidate.items if i["id"] != "s00"}
    extra: dict[str, dict[str, bool | None]] = {k: {"accuracy": True} for k in ("n1", "n2", "n3")}
    candidate = side(
        "cand",
        {**kept, **extra},
        prompt_version="math-boxed/2",
        errors=("s00",),  # failed in the candidate: not a pair
    )
    report = compare_sides(baseline, candidate)
    accuracy = report["metrics"]["gsm8k.accuracy"]
    assert accuracy["n_pairs"] == 39  # s00 errored in the candidate; n1-n3 not in the baseline
    assert report["n_common_items"] == 39
    assert report["only_in_candidate"] == 3 and report["only_in_baseline"] == 1
    notes = " | ".join(report["notes"])
    assert "item sets differ" in notes and "39 items both runs scored" in notes
    assert "prompt versions differ for math_boxed (math-boxed/1 vs math-boxed/2)" in notes


def test_runs_sharing_no_task_cannot_be_compared() -> None:
    baseline, _ = paired_runs()
    other = RunSide("o", "o", {"tasks": {"safety": {"scorer": "safety"}}}, [], None)
    with pytest.raises(ComparisonError, match="share no task"):
        compare_sides(baseline, other)


def tutoring_side(ref: str, values: Mapping[str, Mapping[str, bool | None]]) -> RunSide:
    items = [
        {"task": "tutoring", "id": item_id, "status": "ok", "metrics": dict(metrics)}
        for item_id, metrics in values.items()
    ]
    return RunSide(
        ref, ref, {"run_id": ref, "tasks": {"tutoring": {"scorer": "tutoring"}}}, items, None
    )


def test_a_metric_only_one_run_computed_is_not_compared() -> None:
    # the candidate had a judge, the baseline did not: the judge metrics exist on one side only
    base = {f"t{i}": {"no_answer_reveal": True, "provides_guidance": i < 5} for i in range(20)}
    cand = {
        f"t{i}": {
            "no_answer_reveal": True,
            "provides_guidance": True,
            "judge_guidance": i < 15,
            "judge_no_answer_reveal": None,  # the judge failed on every item for this one
        }
        for i in range(20)
    }
    report = compare_sides(tutoring_side("b", base), tutoring_side("c", cand))
    metrics = report["metrics"]
    guidance = metrics["tutoring.judge_guidance_rate"]
    assert guidance["verdict"] == "not compared"
    assert guidance["n_pairs"] == 0 and guidance["p_value"] is None
    assert guidance["delta"] is None and guidance["significant"] is False
    assert "only the candidate computed it" in guidance["note"]
    # a metric neither run has a value for is not listed at all
    assert "tutoring.judge_no_answer_reveal_rate" not in metrics
    # the metrics both computed are tested as before (15 of 20 improved: significant)
    assert metrics["tutoring.provides_guidance_rate"]["verdict"] == "improvement"
    assert metrics["tutoring.no_answer_reveal_rate"]["verdict"] == "no significant change"
    assert report["summary"]["not compared"] == ["tutoring.judge_guidance_rate"]
    assert "tutoring.judge_guidance_rate" not in report["summary"]["no significant change"]
    assert any("not compared" in n and "judge_guidance_rate" in n for n in report["notes"])
    # the other way round, it is the baseline that computed it
    reverse = compare_sides(tutoring_side("c", cand), tutoring_side("b", base))
    assert "only the baseline" in reverse["metrics"]["tutoring.judge_guidance_rate"]["note"]


def test_a_metric_both_computed_on_no_shared_item_is_not_compared() -> None:
    base = {
        f"t{i}": {"provides_guidance": True, "no_answer_reveal": i < 2 or None} for i in range(6)
    }
    cand = {
        f"t{i}": {"provides_guidance": True, "no_answer_reveal": i >= 4 or None} for i in range(6)
    }
    reveal = compare_sides(tutoring_side("b", base), tutoring_side("c", cand))["metrics"][
        "tutoring.no_answer_reveal_rate"
    ]
    assert reveal["verdict"] == "not compared" and reveal["n_pairs"] == 0
    assert reveal["n_excluded"] == 6 and "not tested" in reveal["note"]


def test_runs_sharing_no_scored_item_give_no_verdict() -> None:
    baseline = side("b", {f"a{i}": {"accuracy": True} for i in range(5)})
    candidate = side("c", {f"z{i}": {"accuracy": False} for i in range(5)}, errors=("a0",))
    with pytest.raises(ComparisonError, match="share no scored item") as raised:
        compare_sides(baseline, candidate)
    assert "baseline 5, candidate 5" in str(raised.value)


def test_a_metric_value_of_the_wrong_type_is_a_comparison_error() -> None:
    baseline = side("b", {"x": {"accuracy": True}})
    candidate = side("c", {"x": {"accuracy": "yes"}})  # type: ignore[dict-item]
    with pytest.raises(ComparisonError, match=r"candidate item 'gsm8k/x'.*binary"):
        compare_sides(baseline, candidate)


# --- the label folder: a copy of its newest run ---------------------------------------------


def write_run(outputs: Path, run_id: str, started_at: str, comparison: bool = False) -> Path:
    paths = output_paths(outputs, "same", run_id)
    results = {"run_id": run_id, "started_at": started_at, "tasks": {}}
    write_files(paths, results, f'{{"run": "{run_id}"}}\n'.encode())
    if comparison:
        paths["results"].with_name("comparison.json").write_text(f'{{"of": "{run_id}"}}')
    return paths["results"].parent


def label_run(outputs: Path) -> str:
    label = outputs / "benchmarks" / "same"
    return str(json.loads((label / "benchmark_results.json").read_text())["run_id"])


def test_the_label_folder_holds_the_run_that_started_last(tmp_path: Path) -> None:
    early = write_run(tmp_path, "early", "2026-01-01T10:00:00+00:00", comparison=True)
    late = write_run(tmp_path, "late", "2026-01-01T11:00:00+00:00")
    label = tmp_path / "benchmarks" / "same"
    assert publish_latest(early) and label_run(tmp_path) == "early"
    assert (label / "comparison.json").read_text() == '{"of": "early"}'
    assert (label / "items.jsonl").read_text() == '{"run": "early"}\n'
    assert publish_latest(late) and label_run(tmp_path) == "late"
    # the newest run has no comparison: the label's copy of the earlier one goes
    assert not (label / "comparison.json").exists()
    assert (label / "items.jsonl").read_text() == '{"run": "late"}\n'
    # a run that started earlier and finishes later (resumed) does not take the label back
    assert not publish_latest(early) and label_run(tmp_path) == "late"
    # copies, not symlinks; each run's own files untouched; no temporary file left
    assert not any(p.is_symlink() for p in label.iterdir())
    assert json.loads((early / "benchmark_results.json").read_text())["run_id"] == "early"
    assert not list(label.rglob("*.tmp"))
    # a later comparison of the newest run reaches the label's copy; of another run, not
    (late / "comparison.json").write_text('{"of": "late"}')
    publish_comparison(late)
    assert (label / "comparison.json").read_text() == '{"of": "late"}'
    (early / "comparison.json").write_text('{"of": "early, again"}')
    publish_comparison(early)
    assert (label / "comparison.json").read_text() == '{"of": "late"}'


def test_files_of_the_old_layout_move_into_their_run_folder_before_a_newer_run_replaces_them(
    tmp_path: Path,
) -> None:
    label = tmp_path / "benchmarks" / "same"
    label.mkdir(parents=True)
    old = {"run_id": "old", "started_at": "2026-01-01T09:00:00+00:00", "tasks": {}}
    (label / "benchmark_results.json").write_text(json.dumps(old))
    (label / "items.jsonl").write_text('{"run": "old"}\n')
    (label / "comparison.json").write_text('{"of": "old"}')
    new = write_run(tmp_path, "new", "2026-01-01T10:00:00+00:00")
    assert publish_latest(new) and label_run(tmp_path) == "new"
    kept = label / "runs" / "old"
    assert json.loads((kept / "benchmark_results.json").read_text()) == old
    assert (kept / "items.jsonl").read_text() == '{"run": "old"}\n'
    assert (kept / "comparison.json").read_text() == '{"of": "old"}'


def test_provenance_fields_of_the_wrong_shape_in_a_file_are_ignored() -> None:
    baseline, candidate = paired_runs()
    candidate.results["prompt_versions"] = ["math-boxed/2"]
    candidate.results["dataset_checksums"] = "a" * 64
    report = compare_sides(baseline, candidate)
    assert report["metrics"]["gsm8k.accuracy"]["verdict"] == "improvement"
    assert report["notes"] == [
        "prompt versions differ for catalog (catalog/1 vs None), math_boxed (math-boxed/1 vs "
        "None): the comparison mixes prompts"
    ]
