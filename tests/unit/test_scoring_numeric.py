"""Exact number parsing and comparison, string normalization, partial match."""

from __future__ import annotations

from fractions import Fraction

import pytest
from tutorlab.scoring import (
    exact_match,
    normalize_answer,
    numeric_equal,
    parse_number,
    partial_match,
)
from tutorlab.scoring.numeric import find_number_tokens


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("18", Fraction(18)),
        ("18.0", Fraction(18)),
        ("-5", Fraction(-5)),
        ("−5", Fraction(-5)),
        ("$1,234.50", Fraction("1234.5")),
        ("\\$1,234.50", Fraction("1234.5")),
        ("-$5", Fraction(-5)),
        ("18 dollars", Fraction(18)),
        ("5 cm", Fraction(5)),
        ("5\\text{ cm}", Fraction(5)),
        ("5 \\text{cm}^2", Fraction(5)),
        ("10 km/h", Fraction(10)),
        ("5 square feet", Fraction(5)),
        ("\\frac{3}{4}", Fraction(3, 4)),
        ("\\dfrac{-3}{4}", Fraction(-3, 4)),
        ("-\\frac12", Fraction(-1, 2)),
        ("3/4", Fraction(3, 4)),
        ("1 1/2", Fraction(3, 2)),
        ("2\\frac{1}{4}", Fraction(9, 4)),
        ("1.5e6", Fraction(1_500_000)),
        ("2.5E-3", Fraction(1, 400)),
        ("1.5 \\times 10^{6}", Fraction(1_500_000)),
        ("50%", Fraction(50)),
        ("50\\%", Fraction(50)),
        ("30^\\circ", Fraction(30)),
        ("10{,}000", Fraction(10000)),
        ("10,\\!000", Fraction(10000)),
        ("\\boxed{18}", Fraction(18)),
        ("**18**", Fraction(18)),
        ("x = 5", Fraction(5)),
        ("18.", Fraction(18)),
        (".5", Fraction(1, 2)),
        (7, Fraction(7)),
        (0.1, Fraction(1, 10)),
    ],
)
def test_parse_number(text: str | int | float, value: Fraction) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "abc", "2x", "3i", "5 and 6", "5 or 6", "\\sqrt{2}", "2\\pi", "1/0", "12,34", "1e5000"],
)
def test_parse_number_rejects_non_numbers(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("gold", "pred", "equal"),
    [
        ("168001", "168000", False),  # integers compare exactly, never to 5 significant figures
        ("18", "18.0", True),
        ("18", "18.00", True),
        ("-5", "5", False),
        ("1234.5", "$1,234.50", True),
        ("0.3", "0.1 + 0.2", True),  # a pure arithmetic expression is evaluated exactly
        ("0.3", "0.30", True),
        ("1/2", "0.5", True),
        ("\\frac{1}{2}", ".5", True),
        ("1/3", "0.333", True),
        ("1/3", "0.3333", True),
        ("1/3", "0.33", True),
        ("1/3", "0.3", False),  # one significant digit is not enough
        ("2/3", "0.67", True),  # rounded to the places it shows
        ("2/3", "0.667", True),
        ("2/3", "0.666", True),  # truncated to the places it shows
        ("2/3", "0.668", False),
        ("2/3", "0.7", False),
        ("100/3", "33", False),  # an integer is no decimal approximation
        ("100/3", "33.33", True),
        ("1/3", "2/6", True),
        ("1/3", "1/6", False),
        ("50", "50%", True),  # percent sign as a unit
        ("50%", "50", True),
        ("0.5", "50%", True),  # ... or as /100 when only one side has it
        ("50%", "0.5", True),
        ("50", "0.5", False),
        ("5", "5.1%", False),
        ("18", "18 dollars", True),
        ("18", "eighteen", False),
        ("18", None, False),
        ("abc", "abc", False),
        ("1000000", "1e6", True),
        ("0.0001", "1 \\times 10^{-4}", True),
    ],
)
def test_numeric_equal(gold: str, pred: str | None, equal: bool) -> None:
    assert numeric_equal(gold, pred) is equal


def test_numeric_equal_is_symmetric_on_exact_values() -> None:
    for a, b in [("1/3", "0.333"), ("18", "18.0"), ("168001", "168000"), ("50%", "0.5")]:
        assert numeric_equal(a, b) is numeric_equal(b, a)


@pytest.mark.parametrize(
    ("gold", "pred"),
    [
        ("\\frac{1}{2}", "\\dfrac{1}{2}"),
        ("\\frac{1}{2}", "$\\frac{1}{2}$"),
        ("\\text{Evelyn}", "Evelyn."),
        ("30^\\circ", "30"),
        ("(3, -1)", "\\left( 3, -1 \\right)"),
        ("10{,}000", "10,000"),
        ("x^2 + 7x + 10", "x^2+7x+10"),
        ("\\boxed{5}", "5"),
        ("10\\%", "10"),
    ],
)
def test_exact_match_normalizes(gold: str, pred: str) -> None:
    assert exact_match(gold, pred)


@pytest.mark.parametrize(
    ("gold", "pred"), [("5", "6"), ("\\frac{1}{2}", "0.5"), ("(3,-1)", "(-1,3)"), ("x", "")]
)
def test_exact_match_rejects(gold: str, pred: str) -> None:
    assert not exact_match(gold, pred)
    assert not exact_match(gold, None)


def test_normalize_answer() -> None:
    assert normalize_answer(" \\left[ 1, 2 \\right] . ") == "[1,2]"
    assert normalize_answer("\\text{(C)}") == "(C)"
    assert normalize_answer("5\\!000\\,\\text{ cm}") == "5000cm"


@pytest.mark.parametrize(
    ("gold", "response", "found"),
    [
        ("18", "So she pays $18.00 in all.", True),
        ("18", "He has 180 marbles.", False),
        ("18", "It is 1,800 meters.", False),
        ("18", "There were 18 birds, then 180.", True),
        ("24", "What is 48/2?", False),  # a division to do is not the number
        ("0.75", "It is 3/4 of the cake.", True),
        ("-5", "x = -5", True),
        ("5", "10-5", True),
        ("\\frac{\\sqrt{3}}{2}", "so $\\sin x = \\frac{\\sqrt{3}}{2}$", True),
        ("\\frac{\\sqrt{3}}{2}", "so $\\sin x = \\frac{\\sqrt{2}}{2}$", False),
    ],
)
def test_partial_match(gold: str, response: str, found: bool) -> None:
    assert partial_match(gold, response) is found


def test_number_tokens_are_whole_tokens() -> None:
    tokens = find_number_tokens("Pay $1,234.50, save 50%, owe -5, eat 3/4 or \\frac{1}{2}; x2 180.")
    assert [t.text for t in tokens] == ["$1,234.50", "50%", "-5", "3/4", "\\frac{1}{2}", "180"]
    assert [t.is_ratio for t in tokens] == [False, False, False, True, True, False]
    assert tokens[0].value == Fraction("1234.5")
