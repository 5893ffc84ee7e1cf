"""stratified_split: deterministic under a seed, proportional per (topic, grade) stratum,
small strata kept in train, independent of input order."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from data_service.splitting import stratified_split, stratum_of
from tutorlab.curriculum.training_format import TrainingExample


def _items() -> list[dict[str, Any]]:
    """Strata of 100, 50, 30, 20 and 10 items, plus 3 tiny ones (4, 2, 1) and 5 untagged."""
    sizes = {
        ("arithmetic.fractions", 4): 100,
        ("arithmetic.fractions", 5): 50,
        ("algebra.equations", 8): 30,
        ("geometry.area", 4): 20,
        ("probability", 7): 10,
        ("algebra.conics", 11): 4,
        ("precalculus.vectors", 12): 2,
        ("measurement.time", 2): 1,
    }
    items: list[dict[str, Any]] = []
    for (topic, grade), n in sizes.items():
        for _ in range(n):
            items.append(
                {"id": f"ex-{len(items):04d}", "grade": grade, "topic_tags": [topic, "arithmetic"]}
            )
    items += [{"id": f"ex-{len(items) + k:04d}", "grade": 3, "topic_tags": []} for k in range(5)]
    random.Random(0).shuffle(items)
    return items


def test_same_seed_same_split_other_seed_other_split() -> None:
    items = _items()
    a = stratified_split(items, eval_fraction=0.2, seed=1)
    b = stratified_split(items, eval_fraction=0.2, seed=1)
    c = stratified_split(items, eval_fraction=0.2, seed=2)
    assert a == b
    assert a.eval != c.eval
    assert len(a.eval) == len(c.eval)


def test_sides_partition_the_items_and_carry_ids() -> None:
    items = _items()
    result = stratified_split(items, eval_fraction=0.2, seed=0)
    assert sorted(result.train + result.eval) == list(range(len(items)))
    assert not set(result.train) & set(result.eval)
    assert result.eval_ids == [items[i]["id"] for i in result.eval]
    assert result.train_ids == [items[i]["id"] for i in result.train]


def test_stratification_proportions() -> None:
    items = _items()
    result = stratified_split(items, eval_fraction=0.2, seed=0)
    eval_by_stratum = Counter(stratum_of(items[i]) for i in result.eval)
    assert eval_by_stratum[("arithmetic.fractions", 4)] == 20
    assert eval_by_stratum[("arithmetic.fractions", 5)] == 10
    assert eval_by_stratum[("algebra.equations", 8)] == 6
    assert eval_by_stratum[("geometry.area", 4)] == 4
    assert eval_by_stratum[("probability", 7)] == 2
    # strata under ceil(1 / 0.2) = 5 members stay in train
    for small in [("algebra.conics", 11), ("precalculus.vectors", 12), ("measurement.time", 2)]:
        assert eval_by_stratum[small] == 0
    assert eval_by_stratum[("untagged", 3)] == 1
    assert result.strata["arithmetic.fractions|4"].model_dump() == {"total": 100, "eval": 20}
    assert set(result.too_small) == {
        "algebra.conics|11",
        "measurement.time|2",
        "precalculus.vectors|12",
    }


def test_rounding_hits_the_overall_fraction() -> None:
    items = [{"grade": g, "topic_tags": ["arithmetic"]} for g in range(1, 8) for _ in range(13)]
    result = stratified_split(items, eval_fraction=0.1, seed=0)
    # 7 strata of 13: 1.3 each, 9.1 in all -> 9 eval items, no stratum emptied of training data
    assert len(result.eval) == 9
    assert all(c.eval in (1, 2) and c.eval < c.total for c in result.strata.values())


def test_input_order_does_not_change_the_split() -> None:
    items = _items()
    shuffled = items[::-1]
    a = stratified_split(items, eval_fraction=0.2, seed=5)
    b = stratified_split(shuffled, eval_fraction=0.2, seed=5)
    assert sorted(a.eval_ids) == sorted(b.eval_ids)


def test_topic_depth_and_training_examples() -> None:
    examples = [
        TrainingExample(
            id=f"t{i}",
            prompt=f"Student: problem {i}\nMode: hint",
            response="Try a smaller case first.",
            grade=6,
            topic_tags=["arithmetic.fractions" if i % 2 else "arithmetic.decimals"],
        )
        for i in range(20)
    ]
    fine = stratified_split(examples, eval_fraction=0.25, seed=0)
    assert set(fine.strata) == {"arithmetic.decimals|6", "arithmetic.fractions|6"}
    coarse = stratified_split(examples, eval_fraction=0.25, seed=0, topic_depth=1)
    assert coarse.strata["arithmetic|6"].model_dump() == {"total": 20, "eval": 5}


def test_custom_key_and_min_stratum_size() -> None:
    items = [{"grade": 5, "topic_tags": ["a"], "source": s} for s in "xxxxxxyy"]
    result = stratified_split(
        items, eval_fraction=0.5, key=lambda it: (it["source"], 0), min_stratum_size=3
    )
    assert result.strata["x|0"].eval == 3
    assert result.too_small == ["y|0"]


def test_bad_input_names_the_item() -> None:
    with pytest.raises(ValueError, match="eval_fraction"):
        stratified_split([], eval_fraction=1.0)
    with pytest.raises(ValueError, match="item 1: grade must be an integer"):
        stratified_split([{"grade": 3, "topic_tags": []}, {"grade": "3", "topic_tags": []}])
    with pytest.raises(ValueError, match="got 1 ids for 2 items"):
        stratified_split([{"grade": 3, "topic_tags": []}] * 2, ids=["a"])
