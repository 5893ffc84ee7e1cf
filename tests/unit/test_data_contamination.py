"""Contamination: a planted GSM8K/MATH test problem inside a training prompt is caught;
unrelated text, and text that merely shares short phrases, is not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data_service.contamination import ContaminationIndex
from data_service.dedup import tokenize
from tutorlab.curriculum.training_format import TrainingExample
from tutorlab.datasets.records import DatasetRecord, gsm8k_record, math_record


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def test_records(dataset_mirror: Path) -> list[DatasetRecord]:
    gsm = _read_jsonl(dataset_mirror / "gsm8k" / "test.jsonl")
    records = [gsm8k_record(i, "test", r["question"], r["answer"]) for i, r in enumerate(gsm)]
    records += [math_record(r) for r in _read_jsonl(dataset_mirror / "math" / "test.jsonl")]
    return records


@pytest.fixture(scope="module")
def index(test_records: list[DatasetRecord]) -> ContaminationIndex:
    return ContaminationIndex.from_records(test_records)


def _example(question: str, i: int) -> TrainingExample:
    return TrainingExample(
        id=f"train-{i}",
        prompt=f"Student: {question}\nMode: hint",
        response="What do you know so far, and what is the question asking for?",
        grade=4,
        topic_tags=["arithmetic"],
    )


UNRELATED = [
    "Mia reads 14 pages on Monday and twice as many on Tuesday. How many pages did she read?",
    "A rectangle is 7 cm wide and 9 cm long. What is its area?",
    "Why do we flip the second fraction when we divide fractions?",
    "What is the probability of rolling a 6 on a fair die?",
]


def test_index_holds_every_test_problem(
    index: ContaminationIndex, test_records: list[DatasetRecord]
) -> None:
    assert index.ngram == 13
    assert index.n_problems == len(test_records) == 1319 + 5000
    assert index.n_ngrams > 100_000
    assert index.short_lengths and max(index.short_lengths) < 13


def test_planted_gsm8k_test_problem_is_caught_and_unrelated_text_is_not(
    index: ContaminationIndex, test_records: list[DatasetRecord]
) -> None:
    planted = next(r for r in test_records if r.id == "gsm8k-test-00042")
    examples = [_example(q, i) for i, q in enumerate(UNRELATED)]
    examples.insert(2, _example("Can you help me? " + planted.question, 99))
    report = index.check(examples)
    assert report.n_checked == 5
    assert report.n_flagged == 1
    (flag,) = report.flagged
    assert (flag.index, flag.id, flag.test_id) == (2, "train-99", "gsm8k-test-00042")
    assert flag.overlap_ngrams >= 10
    assert len(flag.sample.split()) == 13
    assert flag.sample in " ".join(tokenize(planted.question, symbols=False))
    assert report.kept == [0, 1, 3, 4]


def test_a_planted_math_problem_in_the_response_is_caught(
    index: ContaminationIndex, test_records: list[DatasetRecord]
) -> None:
    record = next(r for r in test_records if r.id == "test/algebra/1.json")
    example = {"prompt": "Student: I need help\nMode: solve", "response": record.question}
    report = index.check([example, "Nothing to see here at all."])
    assert [f.test_id for f in report.flagged] == ["test/algebra/1.json"]


def test_short_test_problem_matches_only_when_whole(
    index: ContaminationIndex, test_records: list[DatasetRecord]
) -> None:
    short = next(
        r for r in test_records if r.id.startswith("test/") and r.question == "Evaluate $\\log_21$."
    )
    report = index.check(
        [
            "Student: Evaluate $\\log_21$. \nMode: hint",  # the whole short problem
            "Student: Evaluate the sum of the first ten integers.\nMode: hint",  # shares a word
        ]
    )
    assert [(f.index, f.test_id) for f in report.flagged] == [(0, short.id)]
    assert report.flagged[0].overlap_ngrams == 1


def test_a_shared_phrase_under_13_words_is_not_contamination(index: ContaminationIndex) -> None:
    # twelve consecutive tokens of gsm8k-test-00000 (janet s ducks ... three for), then others
    text = "Janet's ducks lay 16 eggs per day. She eats three for lunch with her sister."
    assert index.check([text]).n_flagged == 0
    assert index.check([text.replace("lunch", "breakfast")]).n_flagged == 1


def test_min_overlap_and_drop(index: ContaminationIndex, test_records: list[DatasetRecord]) -> None:
    planted = test_records[0].question
    examples = [UNRELATED[0], planted, UNRELATED[1]]
    clean, report = index.drop_flagged(examples, ids=["a", "b", "c"])
    assert clean == [UNRELATED[0], UNRELATED[1]]
    assert [f.id for f in report.flagged] == ["b"]
    assert index.check(examples, min_overlap=1000).n_flagged == 0
    with pytest.raises(ValueError, match="min_overlap"):
        index.check(examples, min_overlap=0)


def test_custom_ngram_and_items() -> None:
    small = ContaminationIndex(
        [("t1", "the quick brown fox jumps over the lazy dog"), ("t2", "hello world")], ngram=4
    )
    assert small.short_lengths == [2]
    report = small.check(
        ["I saw the quick brown fox today", "hello world again", "hello there world", "lazy dog"]
    )
    assert [(f.index, f.test_id, f.overlap_ngrams) for f in report.flagged] == [
        (0, "t1", 1),
        (1, "t2", 1),
    ]
    assert report.flagged[0].sample == "the quick brown fox"


def test_diagram_code_is_not_counted() -> None:
    asy = "[asy] draw((0,0)--(1,0)--(1,1)--(0,1)--cycle); label(A, (0,0), SW); [/asy]"
    small = ContaminationIndex([("t", f"What is the area of the square? {asy}")], ngram=5)
    assert small.check([f"Different question entirely. {asy}"]).n_flagged == 0
