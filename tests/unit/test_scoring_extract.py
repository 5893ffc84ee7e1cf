"""Final-answer extraction: the rule cascade, its edge cases and the <think> block."""

from __future__ import annotations

import pytest
from tutorlab.scoring import (
    Extraction,
    ExtractionRule,
    extract_answer,
    stated_answers,
    strip_thinking,
)
from tutorlab.scoring._latex import brace_pairs
from tutorlab.scoring.extract import boxed_answers

CASES: list[tuple[str, str | None, ExtractionRule | None]] = [
    # boxed: last one wins, nested braces, \fbox, brace-less form
    ("So the total is \\boxed{18}.", "18", "boxed"),
    ("First \\boxed{3}, then \\boxed{\\frac{1}{2}}", "\\frac{1}{2}", "boxed"),
    ("\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{3}}{2}", "boxed"),
    ("The set is \\boxed{\\{1,2\\}}", "\\{1,2\\}", "boxed"),
    ("$\\boxed{(3, -1)}$", "(3, -1)", "boxed"),
    ("The answer is $\\boxed 5$", "5", "boxed"),
    ("\\fbox{42}", "42", "boxed"),
    ("\\boxed{18 \\text{ dollars}}", "18 \\text{ dollars}", "boxed"),
    ("\\boxed{} so \\boxed{7}", "7", "boxed"),
    ("The answer is 3 and \\boxed{4}", "4", "boxed"),
    ("Unclosed \\boxed{12 then #### 5", "5", "hash"),
    # boxed beats every cue
    ("The answer is 12.\n\\boxed{13}", "13", "boxed"),
    # GSM8K ####
    ("He earns 3*6=<<3*6=18>>18 dollars.\n#### 18", "18", "hash"),
    ("#### $1,234", "$1,234", "hash"),
    # "final answer"
    ("The final answer is $18.", "$18", "final_answer"),
    (
        "Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.",
        "\\frac{3}{4}",
        "final_answer",
    ),
    ("**Final Answer:** 18", "18", "final_answer"),
    ("The answer is 7. Final answer: 9", "9", "final_answer"),
    # "answer is"
    ("The answer is **18**.", "18", "answer_is"),
    ("The answer is 18 dollars.", "18", "answer_is"),
    ("The answer is \\$1,234.50", "\\$1,234.50", "answer_is"),
    ("The answer is -12.", "-12", "answer_is"),
    ("The answer is 3/4 of the pie.", "3/4", "answer_is"),
    ("The answer is 50%.", "50%", "answer_is"),
    ("The answer is \\frac{3}{4}.", "\\frac{3}{4}", "answer_is"),
    ("The answer is 2\\sqrt{3}.", "2\\sqrt{3}", "answer_is"),
    ("The answer is $18$.", "18", "answer_is"),
    ("The answer is Evelyn.", "Evelyn", "answer_is"),
    ("The answer: x^2+1", "x^2+1", "answer_is"),
    ("The answer is approximately 3.14.", "3.14", "answer_is"),
    ("So the answer would be 12 cookies", "12", "answer_is"),
    ("The answer is\n\n42", "42", "answer_is"),
    ("It costs $5 and $6 in all, so the answer is $11.", "$11", "answer_is"),
    # a cue that states nothing falls through to the next rule
    ("Your answer is correct because you followed every rule. So 7 remain.", "7", "last_number"),
    ("Is the answer 12? The answer is 12? Hmm, 13.", "13", "last_number"),
    # last number
    ("She has 5 apples and eats 2, so 3 remain.", "3", "last_number"),
    ("Thus the probability is \\frac{1}{6}.", "\\frac{1}{6}", "last_number"),
    ("The speed is 1.5e6 m/s", "1.5e6", "last_number"),
    ("Total: −7", "−7", "last_number"),
    ("10-5", "10-5", "expression"),  # the whole reply is one expression (evaluated: 5)
    ("He now has 1,800 stamps.", "1,800", "last_number"),
    ("That is a 25% increase.", "25%", "last_number"),
    # nothing to extract
    ("No numbers here.", None, None),
    ("", None, None),
    # reasoning is never read
    ("<think>The answer is 99.</think>The answer is 18.", "18", "answer_is"),
    ("<think>Let me think... \\boxed{99}", None, None),
    ("<think>\n\n</think>\n\nSo it is 7", "7", "last_number"),
    ("I reasoned a lot </think> so it's 7", "7", "last_number"),
]


@pytest.mark.parametrize(("response", "value", "rule"), CASES)
def test_extraction_cases(response: str, value: str | None, rule: ExtractionRule | None) -> None:
    assert extract_answer(response) == Extraction(value, rule)


def test_case_table_is_large() -> None:
    assert len(CASES) >= 30


def test_strip_thinking_removes_only_reasoning() -> None:
    assert strip_thinking("<think>a\nb</think>\n\nHello") == "Hello"
    assert strip_thinking("<think>x</think>A<think>y</think>B") == "AB"
    assert strip_thinking("Start <think>never closed") == "Start"
    assert strip_thinking("no tags at all") == "no tags at all"


def test_boxed_answers_lists_all_in_order() -> None:
    assert boxed_answers("\\boxed{1}, \\fbox{2} and \\boxed{\\boxed{3}}") == ["1", "2", "3"]


def test_stated_answers_ignore_numbers_in_passing() -> None:
    text = "We have 48 clips. The answer is 72. Final answer: 72"
    assert stated_answers(text) == ["72", "72"]
    assert stated_answers("Half of 48 is 24. What next?") == []


def test_brace_pairs_match_nested_groups_skip_escapes_and_leave_unclosed_out() -> None:
    text = r"\boxed{\frac{1}{2}} \{ \boxed{3 \boxed{"
    pairs = brace_pairs(text)
    first = text.index("{")
    assert text[first : pairs[first] + 1] == r"{\frac{1}{2}}"
    assert [(text[o], text[c]) for o, c in pairs.items()] == [("{", "}")] * 3
    # the escaped \{ pairs with nothing; the last two groups never close
    assert len(pairs) == 3 and max(pairs) < text.index(r"\{")
    assert boxed_answers(text) == [r"\frac{1}{2}"]
