"""deduplicate: exact and near duplicates are dropped with what they duplicate; distinct
examples are kept; the near-duplicate search misses no pair at or above the threshold."""

from __future__ import annotations

import json
import random
from itertools import combinations
from pathlib import Path

import pytest
from data_service.dedup import deduplicate, tokenize
from tutorlab.curriculum.training_format import TrainingExample

BASE = (
    "Janet has 3 boxes of pencils with 12 pencils in each box. She gives 7 pencils to her "
    "friend and buys 5 more at the store. How many pencils does Janet have now?"
)


def _shingles(text: str, k: int = 3) -> set[tuple[str, ...]]:
    tokens = tokenize(text)
    if len(tokens) < k:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}


def _jaccard(a: str, b: str) -> float:
    sa, sb = _shingles(a), _shingles(b)
    return len(sa & sb) / len(sa | sb)


def test_exact_duplicates_ignore_case_spacing_and_punctuation() -> None:
    items = [BASE, BASE.upper(), "  " + BASE.replace(" ", "   ") + "!!", "Something else entirely."]
    result = deduplicate(items, ids=["a", "b", "c", "d"])
    assert result.kept_ids == ["a", "d"]
    assert [(d.id, d.reason, d.duplicate_of, d.similarity) for d in result.dropped] == [
        ("b", "exact", "a", 1.0),
        ("c", "exact", "a", 1.0),
    ]
    assert result.n_exact == 2
    assert result.n_near == 0


def test_math_symbols_make_texts_different() -> None:
    result = deduplicate(["What is 12 + 5?", "What is 12 - 5?", "What is 12 * 5?"], near=False)
    assert result.kept == [0, 1, 2]


def test_near_duplicate_is_dropped_and_names_the_kept_one() -> None:
    near = BASE.replace("friend", "brother")
    assert _jaccard(BASE, near) >= 0.8
    result = deduplicate([BASE, near])
    assert result.kept == [0]
    (dropped,) = result.dropped
    assert (dropped.index, dropped.reason, dropped.duplicate_of_index) == (1, "near", 0)
    assert dropped.similarity == pytest.approx(_jaccard(BASE, near), abs=1e-4)


def test_distinct_problems_with_the_same_template_are_kept() -> None:
    items = [
        f"Student: {q}\nMode: hint"
        for q in (
            "What is 3/4 + 1/8?",
            "A train travels 60 miles per hour for 3 hours. How far does it go?",
            "Find the area of a circle with radius 5.",
            "How many ways can 4 people sit in a row?",
        )
    ]
    result = deduplicate(items)
    assert result.kept == [0, 1, 2, 3]
    assert result.dropped == []


def test_threshold_controls_what_counts_as_near() -> None:
    changed = BASE.replace("friend", "brother").replace("store", "shop")
    similarity = _jaccard(BASE, changed)
    assert 0.6 < similarity < 0.8
    assert deduplicate([BASE, changed], threshold=0.8).kept == [0, 1]
    assert deduplicate([BASE, changed], threshold=0.6).kept == [0]
    with pytest.raises(ValueError, match="threshold"):
        deduplicate([BASE], threshold=0)


def test_training_examples_and_their_ids() -> None:
    def example(i: int, response: str) -> TrainingExample:
        return TrainingExample(
            id=f"ex-{i}",
            prompt=f"Student: {BASE}\nMode: hint",
            response=response,
            grade=3,
            topic_tags=["arithmetic.multiplication_division"],
        )

    items = [
        example(1, "How many pencils are in the 3 boxes altogether?"),
        example(2, "How many pencils are in the 3 boxes altogether?"),
        example(3, "Start with the boxes: what is 3 times 12?"),
    ]
    result = deduplicate(items)
    assert result.kept_ids == ["ex-1", "ex-3"]
    assert result.dropped[0].duplicate_of == "ex-1"
    dicts = [item.model_dump() for item in items]
    assert deduplicate(dicts).kept_ids == ["ex-1", "ex-3"]


def test_no_pair_at_or_above_the_threshold_is_missed() -> None:
    rng = random.Random(3)
    words = [f"w{i}" for i in range(60)]
    seeds = [" ".join(rng.choices(words, k=rng.randint(4, 40))) for _ in range(40)]
    items = []
    for text in seeds:
        items.append(text)
        for _ in range(4):  # variants with a few words replaced
            tokens = text.split()
            for _ in range(rng.randint(0, 3)):
                tokens[rng.randrange(len(tokens))] = rng.choice(words)
            items.append(" ".join(tokens))
    rng.shuffle(items)
    threshold = 0.7
    result = deduplicate(items, threshold=threshold)
    kept = result.kept
    for d in result.dropped:
        assert d.duplicate_of_index in kept
        assert d.duplicate_of_index < d.index
        if d.reason == "near":
            assert _jaccard(items[d.index], items[d.duplicate_of_index]) >= threshold
    for i, j in combinations(kept, 2):
        assert _jaccard(items[i], items[j]) < threshold, (i, j)
    # each dropped item is compared with the kept items before it: its best match is named
    for d in result.dropped:
        best = max(_jaccard(items[d.index], items[k]) for k in kept if k < d.index)
        assert d.similarity == pytest.approx(best, abs=1e-4)
    assert result.n_near > 0


def test_deterministic_and_order_decides_who_stays() -> None:
    near = BASE.replace("friend", "brother")
    assert deduplicate([BASE, near]).kept == [0]
    assert deduplicate([near, BASE]).kept == [0]
    first = deduplicate([BASE, near, "x y z", BASE])
    assert first == deduplicate([BASE, near, "x y z", BASE])


def test_empty_and_short_texts() -> None:
    result = deduplicate(["", "", "hi", "hi there", "Hi!"])
    assert result.kept == [0, 2, 3]
    assert {(d.index, d.reason) for d in result.dropped} == {(1, "exact"), (4, "exact")}


def test_gsm8k_train_with_planted_duplicates(dataset_mirror: Path) -> None:
    rows = (dataset_mirror / "gsm8k" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["question"] for line in rows]
    n = len(texts)
    rng = random.Random(11)
    planted = rng.sample(range(n), 50)
    extra = []
    for i in planted[:25]:
        extra.append(texts[i].upper())  # exact
    for i in planted[25:]:
        tokens = texts[i].split()
        tokens.append("Please answer quickly.")  # near: one short sentence added
        extra.append(" ".join(tokens))
    result = deduplicate([*texts, *extra])
    dropped = {d.index: d for d in result.dropped}
    for k, i in enumerate(planted):
        d = dropped[n + k]
        assert d.duplicate_of_index == i or _jaccard(texts[i], texts[d.duplicate_of_index]) >= 0.8
        assert d.reason == ("exact" if k < 25 else "near")
    assert len(result.kept) >= n - 30  # GSM8K train itself holds only a handful of duplicates
