"""Epoch reducers: pass@k against hand-computed values, majority vote, request validation."""

from __future__ import annotations

import re

import pytest
from eval_service.comparison import RunSide, compare_sides
from eval_service.epochs import (
    Sample,
    base_id,
    check_reducers,
    maj_at_k,
    pass_at_k,
    reduce_item,
    sample_id,
)
from eval_service.schemas import BenchmarkParams
from pydantic import ValidationError


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 2 / 5),  # pass@1 is the fraction correct
        (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
        (5, 2, 3, 1 - 1 / 10),  # 1 - C(3,3)/C(5,3)
        (5, 2, 4, 1.0),  # fewer wrong samples than k: some draw has a right one
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (3, 0, 2, 0.0),
        (3, 3, 3, 1.0),
        (4, 1, 2, 1 - 3 / 6),  # 1 - C(3,2)/C(4,2)
    ],
)
def test_pass_at_k_is_the_unbiased_estimator(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_with_fewer_samples_than_k_has_no_value() -> None:
    assert pass_at_k(2, 1, 3) is None
    with pytest.raises(ValueError, match="c <= n"):
        pass_at_k(2, 3, 1)


def s(epoch: int, vote: str, correct: bool | None) -> Sample:
    return Sample(epoch, {"accuracy": correct}, vote)


def test_majority_vote_over_the_first_k_samples_by_epoch() -> None:
    samples = [s(2, "7", True), s(0, "8", False), s(1, "8", False), s(3, "7", True)]
    assert maj_at_k(samples, 3, "accuracy") is False  # epochs 0-2: 8, 8, 7
    assert maj_at_k(samples, 1, "accuracy") is False  # epoch 0 alone
    # a tie (two 8s, two 7s) goes to the answer voted for first (epoch 0's)
    assert maj_at_k(samples, 4, "accuracy") is False
    assert maj_at_k([s(0, "7", True), s(1, "9", False), s(2, "7", True)], 3, "accuracy") is True
    assert maj_at_k(samples[:2], 3, "accuracy") is None  # fewer than k scored


def test_reduce_item_means_every_metric_and_reduces_the_headline() -> None:
    samples = [
        Sample(0, {"accuracy": True, "invalid": False}, "a:4"),
        Sample(1, {"accuracy": False, "invalid": True}, "v:invalid"),
        Sample(2, {"accuracy": True, "invalid": False}, "a:4"),
    ]
    reduced = reduce_item(samples, ["mean", "pass@2", "maj@3", "maj@1"], "accuracy")
    assert reduced["samples"] == 3
    assert reduced["mean"] == {"accuracy": pytest.approx(2 / 3), "invalid": pytest.approx(1 / 3)}
    assert reduced["pass@2"] == pytest.approx(1.0)  # n - c = 1 < 2
    assert reduced["maj@3"] is True and reduced["maj@1"] is True


def test_sample_ids_round_trip_even_when_the_item_id_has_the_separator() -> None:
    assert base_id(sample_id("test/algebra/1#2", 7)) == "test/algebra/1#2"


@pytest.mark.parametrize(
    ("reducers", "message"),
    [
        (["median"], "unknown reducer 'median'"),
        (["pass@4"], "'pass@4' needs k <= epochs (3)"),
        (["maj@0"], "unknown reducer 'maj@0'"),
        (["mean", "mean"], "each reducer once"),
    ],
)
def test_bad_reducers_name_the_field(reducers: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check_reducers(reducers, 3)
    with pytest.raises(ValidationError, match=re.escape(f"reducers: {message}")):
        BenchmarkParams(
            model="m", tasks=["gsm8k"], epochs=3, reducers=reducers, params={"temperature": 1}
        )


def test_epochs_above_one_need_a_temperature() -> None:
    with pytest.raises(ValidationError, match=r"params\.temperature: epochs=3 .* temperature > 0"):
        BenchmarkParams(model="m", tasks=["gsm8k"], epochs=3, params={"temperature": 0})
    # not given: checked against the model's registered params when the run is submitted
    assert BenchmarkParams(model="m", tasks=["gsm8k"], epochs=3).epochs == 3
    assert BenchmarkParams(model="m", tasks=["gsm8k"], params={"temperature": 0}).epochs == 1


def side(ref: str, correct: dict[str, list[bool]], epochs: int) -> RunSide:
    """A run's results and items.jsonl records: per item, the accuracy of each sample."""
    items = []
    for item_id, samples in correct.items():
        for epoch, ok in enumerate(samples):
            record = {
                "task": "gsm8k",
                "id": item_id,
                "status": "ok",
                "metrics": {"accuracy": ok},
                "extracted": "4" if ok else f"wrong-{epoch}",
                "verdict": "correct" if ok else "incorrect",
            }
            items.append(record | ({"epoch": epoch} if epochs > 1 else {}))
    config = {"epochs": epochs, "reducers": ["mean", "pass@2", "maj@3"] if epochs > 1 else ["mean"]}
    results = {"config": config, "tasks": {"gsm8k": {"scorer": "gsm8k"}}}
    return RunSide(ref, ref, results, items, None)


def test_comparisons_pair_items_over_their_reduced_scores() -> None:
    base = side("a", {"i1": [True, False, False], "i2": [False, False, False]}, 3)
    cand = side("b", {"i1": [True, True, False], "i2": [True, False, False]}, 3)
    report = compare_sides(base, cand, n_resamples=200)
    accuracy = report["metrics"]["gsm8k.accuracy"]
    assert accuracy["kind"] == "continuous" and accuracy["n_pairs"] == 2
    assert accuracy["baseline_mean"] == pytest.approx((1 / 3 + 0) / 2)
    assert accuracy["candidate_mean"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    pass2 = report["metrics"]["gsm8k.accuracy.pass@2"]
    # baseline: 1 - C(2,2)/C(3,2) = 2/3 and 0; candidate: 1 and 2/3
    assert pass2["baseline_mean"] == pytest.approx(1 / 3)
    assert pass2["candidate_mean"] == pytest.approx(5 / 6)
    majority = report["metrics"]["gsm8k.accuracy.maj@3"]
    # three different answers tie: the one voted first (epoch 0) wins; i1 base right, i2 wrong
    assert majority["kind"] == "binary"
    assert majority["baseline_mean"] == 0.5 and majority["candidate_mean"] == 1.0
    # against a one-epoch run: its items are 0 or 1; the reducers it lacks are not compared
    single = side("c", {"i1": [True], "i2": [False]}, 1)
    mixed = compare_sides(single, cand, n_resamples=200)
    assert mixed["metrics"]["gsm8k.accuracy"]["baseline_mean"] == pytest.approx(0.5)
    assert mixed["metrics"]["gsm8k.accuracy.pass@2"]["verdict"] == "not compared"


def test_the_cache_round_is_cache_epoch_and_its_earlier_name_is_still_read() -> None:
    """``cache_epoch`` (a fresh cache round) is not ``epochs`` (samples per item); a job stored
    or a script written when it was called ``epoch`` still means the same round."""
    quick = {"model": "m", "suite": "quick"}
    assert BenchmarkParams.model_validate({**quick, "cache_epoch": 3}).cache_epoch == 3
    assert BenchmarkParams.model_validate({**quick, "epoch": 3}).cache_epoch == 3
    stored = BenchmarkParams.model_validate({**quick, "epoch": 2, "epochs": 4})
    assert (stored.cache_epoch, stored.epochs) == (2, 4)
    assert "epoch" not in stored.model_dump() and stored.model_dump()["cache_epoch"] == 2
    assert "cache_epoch" in BenchmarkParams.model_json_schema()["properties"]
    with pytest.raises(ValidationError, match="epoch"):
        BenchmarkParams.model_validate({**quick, "cache_epoch": 1, "epoch": 2})
