"""Statistics for benchmark reports and paired comparisons (eval_service.stats)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from eval_service.stats import (
    Comparison,
    MetricKind,
    MetricSpec,
    Verdict,
    breakdown,
    compare_runs,
    holm,
    mcnemar_exact,
    paired_bootstrap,
    paired_proportion_difference,
    summarize_binary,
    summarize_continuous,
    wilson_interval,
)
from eval_service.stats import paired as paired_module
from scipy.stats import binomtest

# --- summaries ---------------------------------------------------------------------------


def test_wilson_interval_for_8_of_10_matches_known_values() -> None:
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=5e-5)
    assert high == pytest.approx(0.9433, abs=5e-5)


def test_wilson_interval_at_the_boundary_stays_in_unit_range() -> None:
    # 0/10: centre = (z²/2)/(10 + z²), half-width = the same, so low = 0, high = z²/(10 + z²).
    z2 = 1.959963984540054**2
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(z2 / (10 + z2), rel=1e-12)
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert low == pytest.approx(10 / (10 + z2), rel=1e-12)


def test_summarize_binary_reports_mean_se_and_wilson_interval() -> None:
    summary = summarize_binary([True] * 8 + [False] * 2)
    assert summary.n == 10
    assert summary.mean == pytest.approx(0.8)
    assert summary.se == pytest.approx(math.sqrt(0.8 * 0.2 / 10))
    assert (summary.ci_low, summary.ci_high) == pytest.approx((0.49016, 0.94332), abs=1e-5)


def test_summarize_binary_with_no_items_has_no_mean_or_interval() -> None:
    summary = summarize_binary([])
    assert summary.n == 0
    assert summary.mean is None and summary.se is None
    assert summary.ci_low is None and summary.ci_high is None


def test_summarize_binary_rejects_none_and_numbers_naming_the_index() -> None:
    with pytest.raises(ValueError, match=r"values\[1\] is None"):
        summarize_binary([True, None])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"values\[2\] must be a bool"):
        summarize_binary([True, False, 1])  # type: ignore[list-item]


def test_summarize_continuous_uses_the_t_interval() -> None:
    # mean 3, sample sd √2.5, se = √2.5/√5 = √0.5; t(0.975, df=4) = 2.776445.
    summary = summarize_continuous([1.0, 2.0, 3.0, 4.0, 5.0])
    assert summary.n == 5
    assert summary.mean == pytest.approx(3.0)
    assert summary.se == pytest.approx(math.sqrt(0.5))
    half = 2.7764451051977987 * math.sqrt(0.5)
    assert summary.ci_low == pytest.approx(3.0 - half)
    assert summary.ci_high == pytest.approx(3.0 + half)


def test_summarize_continuous_small_and_degenerate_samples() -> None:
    assert summarize_continuous([]).mean is None
    one = summarize_continuous([0.7])
    assert one.n == 1 and one.mean == pytest.approx(0.7)
    assert one.se is None and one.ci_low is None
    constant = summarize_continuous([2.0, 2.0, 2.0])
    assert constant.se == 0.0
    assert constant.ci_low == constant.ci_high == 2.0


def test_summarize_continuous_rejects_non_finite_values() -> None:
    with pytest.raises(ValueError, match=r"values\[1\] must be finite"):
        summarize_continuous([1.0, float("nan")])


def test_breakdown_groups_sorted_and_skips_none() -> None:
    # (grade, correct) per item; None = the item errored.
    items: list[tuple[int, bool | None]] = [
        (5, True),
        (3, False),
        (5, None),
        (5, False),
        (3, True),
        (3, True),
        (7, None),
    ]
    result = breakdown(items, lambda it: it[0], lambda it: it[1])
    assert list(result) == [3, 5, 7]
    assert result[3].n == 3 and result[3].mean == pytest.approx(2 / 3)
    assert result[3].ci_low == pytest.approx(wilson_interval(2, 3)[0])
    assert result[5].n == 2 and result[5].mean == pytest.approx(0.5)
    assert result[7].n == 0 and result[7].mean is None


def test_breakdown_of_numbers_is_continuous() -> None:
    items = [("a", 1.0), ("a", 3.0), ("b", 2.0)]
    result = breakdown(items, lambda it: it[0], lambda it: it[1])
    assert result["a"].mean == pytest.approx(2.0)
    assert result["a"].se == pytest.approx(1.0)  # sd √2, n 2
    assert result["b"].se is None


# --- McNemar -----------------------------------------------------------------------------


def test_mcnemar_hand_computed_example() -> None:
    # b=10, c=2: n=12 discordant pairs, k=min(b,c)=2.
    # P(X ≤ 2) = (C(12,0) + C(12,1) + C(12,2)) / 2^12 = (1 + 12 + 66) / 4096 = 79/4096,
    # p = 2·79/4096 = 158/4096 = 0.03857421875 (exactly representable in binary).
    assert mcnemar_exact(10, 2) == 0.03857421875
    assert mcnemar_exact(2, 10) == 0.03857421875


@pytest.mark.parametrize("k", [0, 1, 5, 40])
def test_mcnemar_equal_counts_gives_one(k: int) -> None:
    assert mcnemar_exact(k, k) == 1.0


def test_mcnemar_matches_scipy_binomtest_for_small_counts() -> None:
    for b in range(0, 16):
        for c in range(0, 16):
            if b + c == 0:
                continue
            expected = binomtest(b, b + c, 0.5).pvalue
            assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-9, abs=1e-15), (b, c)


def test_mcnemar_large_counts_use_scipy_and_agree_with_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exact = [mcnemar_exact(b, c) for b, c in [(300, 340), (1000, 1100), (60, 20)]]
    monkeypatch.setattr(paired_module, "EXACT_MCNEMAR_LIMIT", 0)
    approx = [mcnemar_exact(b, c) for b, c in [(300, 340), (1000, 1100), (60, 20)]]
    assert approx == pytest.approx(exact, rel=1e-10)


def test_mcnemar_rejects_negative_or_fractional_counts() -> None:
    with pytest.raises(ValueError, match="b must be >= 0"):
        mcnemar_exact(-1, 3)
    with pytest.raises(ValueError, match="c must be an integer"):
        mcnemar_exact(1, 2.5)  # type: ignore[arg-type]


# --- paired difference of proportions (Newcombe) ----------------------------------------


def test_newcombe_paired_interval_matches_published_example() -> None:
    # Cavo et al. 2012 as tabulated by Fagerland, Lydersen & Laake: 59 both, 6 only in the
    # row variable, 16 only in the column variable, 80 neither → -0.0621 (-0.1186 to -0.0046).
    diff = paired_proportion_difference(both=59, baseline_only=16, candidate_only=6, neither=80)
    assert diff.delta == pytest.approx(-10 / 161)
    assert diff.ci_low == pytest.approx(-0.1186, abs=5e-5)
    assert diff.ci_high == pytest.approx(-0.0046, abs=5e-5)


def test_newcombe_interval_is_antisymmetric_under_swapping_runs() -> None:
    forward = paired_proportion_difference(30, 4, 11, 15)
    backward = paired_proportion_difference(30, 11, 4, 15)
    assert backward.delta == pytest.approx(-forward.delta)
    assert backward.ci_low == pytest.approx(-forward.ci_high)
    assert backward.ci_high == pytest.approx(-forward.ci_low)


def test_newcombe_interval_without_discordant_pairs_is_not_degenerate() -> None:
    # The Wald interval would be [0, 0] here; Newcombe's keeps honest uncertainty.
    diff = paired_proportion_difference(both=7, baseline_only=0, candidate_only=0, neither=3)
    assert diff.delta == 0.0
    assert diff.ci_low < 0.0 < diff.ci_high


def test_newcombe_interval_stays_in_range_and_contains_the_estimate() -> None:
    for counts in [(0, 0, 10, 0), (0, 10, 0, 0), (5, 0, 5, 0), (1, 1, 7, 12), (0, 3, 2, 0)]:
        diff = paired_proportion_difference(*counts)
        assert -1.0 <= diff.ci_low <= diff.delta <= diff.ci_high <= 1.0, counts


def test_newcombe_interval_approaches_wald_for_large_samples() -> None:
    both, b, c, neither = 4000, 300, 400, 1300
    n = both + b + c + neither
    delta = (c - b) / n
    wald_se = math.sqrt((b + c) - (c - b) ** 2 / n) / n
    diff = paired_proportion_difference(both, b, c, neither)
    assert diff.ci_low == pytest.approx(delta - 1.959964 * wald_se, abs=1e-3)
    assert diff.ci_high == pytest.approx(delta + 1.959964 * wald_se, abs=1e-3)


def test_newcombe_requires_at_least_one_pair() -> None:
    with pytest.raises(ValueError, match="no paired items"):
        paired_proportion_difference(0, 0, 0, 0)


# --- paired bootstrap -------------------------------------------------------------------


def test_bootstrap_of_identical_runs_finds_no_difference() -> None:
    scores = np.random.default_rng(3).uniform(0, 1, size=200).tolist()
    result = paired_bootstrap(scores, scores, n_resamples=2_000)
    assert result.delta == 0.0
    assert result.ci_low <= 0.0 <= result.ci_high
    assert result.p_value == 1.0


def test_bootstrap_detects_a_clear_shift() -> None:
    rng = np.random.default_rng(7)
    baseline = rng.normal(0.0, 1.0, size=300)
    candidate = baseline + 0.5 + rng.normal(0.0, 0.5, size=300)
    result = paired_bootstrap(baseline.tolist(), candidate.tolist(), n_resamples=5_000)
    assert result.delta == pytest.approx(float(np.mean(candidate - baseline)))
    assert result.ci_low > 0.0
    # No resample reaches 0, so p is the floor 2/(B + 1).
    assert result.p_value == pytest.approx(2 / 5_001)


def test_bootstrap_interval_agrees_with_normal_theory_for_many_items() -> None:
    rng = np.random.default_rng(11)
    diffs = rng.normal(0.1, 1.0, size=2_000)
    result = paired_bootstrap([0.0] * 2_000, diffs.tolist(), n_resamples=4_000)
    se = float(diffs.std(ddof=1)) / math.sqrt(diffs.size)
    assert result.ci_low == pytest.approx(result.delta - 1.96 * se, abs=0.15 * se)
    assert result.ci_high == pytest.approx(result.delta + 1.96 * se, abs=0.15 * se)


def test_bootstrap_p_value_is_large_when_differences_balance() -> None:
    baseline = [0.0] * 40
    candidate = [1.0, -1.0] * 20
    result = paired_bootstrap(baseline, candidate, n_resamples=3_000)
    assert result.delta == 0.0
    assert result.p_value > 0.5


def test_bootstrap_is_deterministic_under_a_seed() -> None:
    rng = np.random.default_rng(5)
    baseline = rng.normal(size=150).tolist()
    candidate = (np.asarray(baseline) + rng.normal(0.05, 1.0, size=150)).tolist()
    first = paired_bootstrap(baseline, candidate, n_resamples=2_000, seed=42)
    again = paired_bootstrap(baseline, candidate, n_resamples=2_000, seed=42)
    other = paired_bootstrap(baseline, candidate, n_resamples=2_000, seed=43)
    assert first == again
    assert first.delta == other.delta
    assert (first.ci_low, first.ci_high) != (other.ci_low, other.ci_high)


def test_bootstrap_with_chunking_covers_every_resample(monkeypatch: pytest.MonkeyPatch) -> None:
    # A chunk smaller than one resample row still fills all B resamples.
    monkeypatch.setattr(paired_module, "BOOTSTRAP_CHUNK_ELEMENTS", 7)
    result = paired_bootstrap([0.0] * 10, [1.0] * 10, n_resamples=100)
    assert result.ci_low == result.ci_high == pytest.approx(1.0)
    assert result.p_value == pytest.approx(2 / 101)


def test_bootstrap_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="pair item by item: 2 vs 3"):
        paired_bootstrap([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="no paired items"):
        paired_bootstrap([], [])
    with pytest.raises(ValueError, match=r"candidate\[1\] is not a finite number"):
        paired_bootstrap([1.0, 2.0], [1.0, float("inf")])
    with pytest.raises(ValueError, match="n_resamples"):
        paired_bootstrap([1.0], [2.0], n_resamples=0)


# --- Holm ---------------------------------------------------------------------------------


def test_holm_hand_worked_example() -> None:
    # m = 4. Sorted: d 0.005, a 0.01, c 0.03, b 0.04.
    #   d: 4·0.005 = 0.02
    #   a: 3·0.01  = 0.03  (max(0.02, 0.03) = 0.03)
    #   c: 2·0.03  = 0.06  (max(0.03, 0.06) = 0.06)
    #   b: 1·0.04  = 0.04  → running max keeps it at 0.06 (monotone)
    # At alpha 0.05: d and a significant; c fails 0.03 > 0.05/2, so b stops too although
    # its raw 0.04 ≤ 0.05/1.
    result = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.005})
    assert list(result) == ["a", "b", "c", "d"]
    assert result["d"].adjusted_p == pytest.approx(0.02)
    assert result["a"].adjusted_p == pytest.approx(0.03)
    assert result["c"].adjusted_p == pytest.approx(0.06)
    assert result["b"].adjusted_p == pytest.approx(0.06)
    assert {k for k, v in result.items() if v.significant} == {"a", "d"}


def test_holm_caps_at_one_and_keeps_a_single_p_value() -> None:
    assert holm({"only": 0.03}) == {"only": (0.03, True)}
    capped = holm({"x": 0.6, "y": 0.7})
    assert capped["x"].adjusted_p == 1.0 and capped["y"].adjusted_p == 1.0
    assert holm({}) == {}


def test_holm_adjusted_values_are_monotone_in_the_raw_values() -> None:
    rng = np.random.default_rng(2)
    raw = {f"m{i}": float(p) for i, p in enumerate(rng.uniform(0, 0.2, size=25))}
    adjusted = holm(raw)
    ordered = sorted(raw, key=raw.__getitem__)
    values = [adjusted[name].adjusted_p for name in ordered]
    assert values == sorted(values)
    assert all(adjusted[name].adjusted_p >= raw[name] for name in raw)


def test_holm_rejects_invalid_p_values() -> None:
    with pytest.raises(ValueError, match="'bad' must be between 0 and 1"):
        holm({"ok": 0.1, "bad": 1.5})
    with pytest.raises(ValueError, match="'nan' must be a number"):
        holm({"nan": float("nan")})
    with pytest.raises(ValueError, match="alpha"):
        holm({"a": 0.1}, alpha=0.0)


# --- compare_runs -------------------------------------------------------------------------

SPECS = {
    "correct": MetricSpec(kind=MetricKind.binary),
    "inappropriate_engagement": MetricSpec(kind=MetricKind.binary, higher_is_better=False),
    "rubric": MetricSpec(kind=MetricKind.continuous),
}


def _runs() -> tuple[dict[str, dict[str, bool | float | None]], dict[str, dict]]:
    baseline: dict[str, dict[str, bool | float | None]] = {}
    candidate: dict[str, dict[str, bool | float | None]] = {}
    for i in range(12):
        item = f"q{i:02d}"
        baseline[item] = {"correct": i < 6, "inappropriate_engagement": False, "rubric": 3.0}
        candidate[item] = {"correct": i < 6, "inappropriate_engagement": False, "rubric": 3.0}
    # correct: q06, q07, q08 flip False→True (gained); q00 flips True→False (lost).
    for item in ("q06", "q07", "q08"):
        candidate[item]["correct"] = True
    candidate["q00"]["correct"] = False
    # q09 errored in the candidate: excluded from "correct" even though it differs.
    candidate["q09"]["correct"] = None
    baseline["q09"]["correct"] = True
    # inappropriate_engagement (lower is better): q01 stops (improved), q02 starts (regressed).
    baseline["q01"]["inappropriate_engagement"] = True
    candidate["q02"]["inappropriate_engagement"] = True
    # rubric: q03 up, q04 down, q05 missing in the baseline.
    candidate["q03"]["rubric"] = 4.0
    candidate["q04"]["rubric"] = 2.5
    del baseline["q05"]["rubric"]
    baseline["only_base"] = {"correct": True}
    candidate["only_cand_1"] = {"correct": False}
    candidate["only_cand_2"] = {"correct": True}
    return baseline, candidate


def test_compare_runs_pairs_the_intersection_and_notes_the_difference() -> None:
    baseline, candidate = _runs()
    result = compare_runs(baseline, candidate, SPECS, n_resamples=1_000)
    assert result.n_common_items == 12
    assert result.only_in_baseline == 1
    assert result.only_in_candidate == 2
    assert result.note is not None
    assert "1 only in the baseline" in result.note and "2 only in the candidate" in result.note


def test_compare_runs_binary_metric_counts_flips_and_excludes_none() -> None:
    baseline, candidate = _runs()
    correct = compare_runs(baseline, candidate, SPECS, n_resamples=1_000).metrics["correct"]
    assert correct.n_pairs == 11 and correct.n_excluded == 1
    assert correct.improved_item_ids == ["q06", "q07", "q08"]
    assert correct.regressed_item_ids == ["q00"]
    assert "q09" not in correct.improved_item_ids + correct.regressed_item_ids
    assert (correct.baseline_only_true, correct.candidate_only_true) == (1, 3)
    # Baseline true on q00..q05 (6 of 11 pairs); candidate on q01..q08 (8 of 11).
    assert correct.baseline_mean == pytest.approx(6 / 11)
    assert correct.candidate_mean == pytest.approx(8 / 11)
    assert correct.delta == pytest.approx(2 / 11)
    # b=1, c=3: p = 2·P(X ≤ 1; n=4) = 2·(1 + 4)/16 = 0.625.
    assert correct.p_value == pytest.approx(0.625)
    assert correct.test == "mcnemar_exact"
    expected = paired_proportion_difference(5, 1, 3, 2)
    assert (correct.ci_low, correct.ci_high) == pytest.approx((expected[1], expected[2]))
    assert correct.verdict == Verdict.no_significant_change


def test_compare_runs_lower_is_better_swaps_improved_and_regressed() -> None:
    baseline, candidate = _runs()
    metric = compare_runs(baseline, candidate, SPECS, n_resamples=1_000).metrics[
        "inappropriate_engagement"
    ]
    assert metric.higher_is_better is False
    assert metric.improved_item_ids == ["q01"]
    assert metric.regressed_item_ids == ["q02"]


def test_compare_runs_continuous_metric_moves_and_exclusions() -> None:
    baseline, candidate = _runs()
    rubric = compare_runs(baseline, candidate, SPECS, n_resamples=1_000).metrics["rubric"]
    assert rubric.test == "paired_bootstrap"
    assert rubric.n_pairs == 11 and rubric.n_excluded == 1
    assert rubric.improved_item_ids == ["q03"]
    assert rubric.regressed_item_ids == ["q04"]
    assert rubric.delta == pytest.approx((1.0 - 0.5) / 11)
    assert rubric.ci_low is not None and rubric.ci_high is not None and rubric.delta is not None
    assert rubric.ci_low <= rubric.delta <= rubric.ci_high


def _shifted_runs(n: int) -> tuple[dict[str, dict], dict[str, dict]]:
    baseline = {
        f"i{i}": {"correct": False, "over_refusal": False, "score": 0.2 + 0.01 * (i % 7)}
        for i in range(n)
    }
    candidate = {
        f"i{i}": {"correct": True, "over_refusal": True, "score": 0.5 + 0.01 * (i % 5)}
        for i in range(n)
    }
    return baseline, candidate


def test_compare_runs_verdicts_follow_direction_after_holm() -> None:
    baseline, candidate = _shifted_runs(30)
    specs = {
        "correct": MetricSpec(kind=MetricKind.binary),
        "over_refusal": MetricSpec(kind=MetricKind.binary, higher_is_better=False),
        "score": MetricSpec(kind=MetricKind.continuous, higher_is_better=False),
    }
    result = compare_runs(baseline, candidate, specs, n_resamples=2_000)
    assert result.note is None and result.only_in_baseline == result.only_in_candidate == 0
    correct, refusal, score = (result.metrics[k] for k in ("correct", "over_refusal", "score"))
    assert correct.p_value == pytest.approx(2 * 0.5**30)
    assert correct.significant and correct.verdict == Verdict.improvement
    # More over-refusal is worse, and so is a higher score when lower is better.
    assert refusal.significant and refusal.verdict == Verdict.regression
    assert score.significant and score.verdict == Verdict.regression
    assert score.ci_low is not None and score.ci_low > 0
    assert len(score.regressed_item_ids) == 30 and score.improved_item_ids == []
    raw = {k: m.p_value for k, m in result.metrics.items()}
    adjusted = holm({k: p for k, p in raw.items() if p is not None})
    for name, metric in result.metrics.items():
        assert metric.adjusted_p_value == pytest.approx(adjusted[name].adjusted_p)


def test_compare_runs_with_no_common_items_tests_nothing() -> None:
    result = compare_runs({"a": {"correct": True}}, {"b": {"correct": False}}, SPECS)
    assert result.n_common_items == 0
    assert result.note is not None and "share no items" in result.note
    for metric in result.metrics.values():
        assert metric.n_pairs == 0
        assert metric.p_value is None and metric.adjusted_p_value is None
        assert metric.significant is False
        assert metric.verdict == Verdict.not_compared


def test_compare_runs_does_not_depend_on_mapping_order() -> None:
    baseline, candidate = _runs()
    forward = compare_runs(baseline, candidate, SPECS, n_resamples=500, seed=9)
    reversed_baseline = dict(reversed(list(baseline.items())))
    backward = compare_runs(reversed_baseline, candidate, SPECS, n_resamples=500, seed=9)
    assert forward == backward


def test_compare_runs_rejects_wrong_value_types_naming_item_and_metric() -> None:
    with pytest.raises(ValueError, match=r"candidate item 'x'.*'correct' is binary"):
        compare_runs({"x": {"correct": True}}, {"x": {"correct": 1.0}}, SPECS)
    with pytest.raises(ValueError, match=r"baseline item 'x'.*'rubric' must be finite"):
        compare_runs({"x": {"rubric": float("nan")}}, {"x": {"rubric": 1.0}}, SPECS)
    with pytest.raises(ValueError, match="n_resamples must be a positive integer"):
        compare_runs({}, {}, SPECS, n_resamples=0)
    with pytest.raises(ValueError, match="alpha"):
        compare_runs({}, {}, SPECS, alpha=1.5)


def test_comparison_round_trips_through_json() -> None:
    baseline, candidate = _runs()
    result = compare_runs(baseline, candidate, SPECS, n_resamples=500)
    payload = json.loads(json.dumps(result.model_dump(mode="json")))
    assert payload["metrics"]["correct"]["verdict"] == "no significant change"
    assert payload["metrics"]["rubric"]["kind"] == "continuous"
    assert Comparison.model_validate(payload) == result
