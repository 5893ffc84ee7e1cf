"""The Socratic builder and its GSM8K step parsing: pure, deterministic, never a final answer
in a hint."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from data_service.builders.gsm8k_steps import (
    evaluate,
    parse_step,
    pretty_expression,
    solution_steps,
    with_wrong_values,
)
from data_service.builders.socratic import Problem, TutorExample, build_examples
from tutorlab.datasets.records import gsm8k_record
from tutorlab.scoring import answer_revealed, guidance

NATALIA = (
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
    "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n"
    "#### 72"
)


@pytest.fixture(scope="module")
def problems(dataset_mirror: Path) -> list[Problem]:
    lines = (dataset_mirror / "gsm8k" / "train.jsonl").read_text().splitlines()[:400]
    out = []
    for index, line in enumerate(lines):
        row = json.loads(line)
        record = gsm8k_record(index, "train", row["question"], row["answer"])
        out.append(
            Problem(record.id, record.question, record.solution, str(record.answer), 4, ("x",))
        )
    return out


def test_a_step_becomes_text_expression_result_and_a_blank() -> None:
    step = parse_step("Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.")
    assert step.text == "Weng earns 12/60 = $0.2 per minute."
    assert step.expression == "12/60" and step.result == Fraction(1, 5)
    assert step.blanked == "Weng earns ___ per minute."
    assert step.visible_expression == "12/60"
    words = parse_step("Mary added 7 stickers/page * 6 pages= <<7*6=42>>42 stickers.")
    assert words.blanked == "Mary added 7 stickers/page * 6 pages = ___ stickers."
    fact = parse_step("There are 7 days in a week.")
    assert not fact.is_calculation and fact.blanked is None


def test_expressions_are_evaluated_exactly() -> None:
    assert evaluate("100-50-30-15") == 5
    assert evaluate("80/100*10") == 8
    assert evaluate("1/3") == Fraction(1, 3)
    assert evaluate("__import__('os')") is None
    assert evaluate("2**10") is None
    assert pretty_expression("12*2+84/2") == "12 × 2 + 84 ÷ 2"


def test_a_wrong_value_is_carried_into_later_steps() -> None:
    steps = solution_steps(NATALIA)
    lines = with_wrong_values(steps, 0, Fraction(25))
    assert lines == [
        ("Natalia sold 48/2 = 25 clips in May.", Fraction(25)),
        ("Natalia sold 48+25 = 73 clips altogether in April and May.", Fraction(73)),
    ]
    last = with_wrong_values(steps, 1, Fraction(70))
    assert last is not None and last[0][0] == steps[0].text and last[1][1] == 70


def test_same_seed_same_examples_other_seed_differs(problems: list[Problem]) -> None:
    first, report = build_examples(problems[:100], seed=1)
    again, _ = build_examples(problems[:100], seed=1)
    other, _ = build_examples(problems[:100], seed=2)
    assert first == again
    assert first != other
    assert report.problems == 100 and sum(report.examples.values()) == len(first)
    assert set(report.examples) == {"hint", "explain", "check"}
    only_hints, _ = build_examples(problems[:100], seed=1, modes=["hint"])
    assert only_hints == [e for e in first if e.mode == "hint"]
    with pytest.raises(ValueError, match="modes"):
        build_examples(problems[:1], seed=1, modes=["solve"])


def gold_of(problems: list[Problem], example: TutorExample) -> Problem:
    return next(p for p in problems if p.id == example.source_id)


def test_no_hint_gives_the_final_answer_and_each_asks_a_question(problems: list[Problem]) -> None:
    examples, _ = build_examples(problems, seed=11, modes=["hint"])
    assert len(examples) > 350
    for example in examples:
        problem = gold_of(problems, example)
        assert not answer_revealed(example.response, problem.answer, [problem.question])
        verdict = guidance(example.response, [problem.question])
        assert verdict.asks_question and verdict.steps <= 1, example.response
        assert not verdict.full_solution, example.response
        assert example.response.rstrip().endswith("?")
    later = [e for e in examples if e.meta["step"] > 1]
    assert later and all("Here's what I have so far" in e.message for e in later)


def test_check_examples_quote_the_first_wrong_step(problems: list[Problem]) -> None:
    examples, _ = build_examples(problems, seed=5, modes=["check"], check_correct_share=0.2)
    wrong = [e for e in examples if e.meta["attempt"] == "wrong"]
    right = [e for e in examples if e.meta["attempt"] == "correct"]
    assert wrong and right and 0.1 < len(right) / len(examples) < 0.3
    for example in wrong:
        problem = gold_of(problems, example)
        steps = solution_steps(problem.solution)
        work = example.message.split("My work:\n", 1)[1].splitlines()
        pairs = zip(work, steps, strict=False)  # the work ends with "So the answer is …"
        first_bad = next(i for i, (a, s) in enumerate(pairs) if a != s.text)
        assert first_bad + 1 == example.meta["mistake_step"]
        assert f"“{work[first_bad]}”" in example.response
        assert example.meta["stated_answer"] != problem.answer
        context = [problem.question, example.message]  # the student's own numbers may recur
        assert not answer_revealed(example.response, problem.answer, context)
    for example in right:
        problem = gold_of(problems, example)
        assert f"So the answer is {problem.answer}." in example.message


def test_explain_works_a_parallel_example(problems: list[Problem]) -> None:
    examples, _ = build_examples(problems[:200], seed=9, modes=["explain"])
    assert len(examples) > 150
    for example in examples:
        problem = gold_of(problems, example)
        values = example.meta["parallel_example"]
        assert str(values["a"]) in example.response and str(values["b"]) in example.response
        assert not answer_revealed(example.response, problem.answer, [problem.question])
        assert example.message.endswith(problem.question)
