"""Tutoring rules: answer revealed or not, Socratic step or not."""

from __future__ import annotations

import pytest
from tutorlab.scoring import SocraticVerdict, answer_revealed, socratic_step
from tutorlab.scoring.tutoring import number_words

PROBLEM = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in "
    "May. How many clips did Natalia sell altogether in April and May?"
)
ASKING = SocraticVerdict(asks_question=True, steps=0, full_solution=False, ok=True)
NOT_ASKING = SocraticVerdict(asks_question=False, steps=0, full_solution=False, ok=False)
STUDENT = "I think she sold 24 in May but I'm stuck."


@pytest.mark.parametrize(
    "reply",
    [
        "So she sold 48 + 24 = 72 clips.",
        "The answer is 72.",
        "Great, she sold seventy-two clips in all!",
        "That makes $72.00 worth of clips... I mean 72 clips.",
        "Add them: \\boxed{72}",
        "<think>hmm</think>Final answer: 72",
        "Together that is 72. Does that make sense?",
    ],
)
def test_revealed(reply: str) -> None:
    assert answer_revealed(reply, "72", [PROBLEM, STUDENT])


@pytest.mark.parametrize(
    "reply",
    [
        "Good! You found 24 for May. What do you get when you add April's 48?",
        "How many clips did she sell in May? Half of 48 is what?",
        "Try 48/2 first, then add. What do you get?",
        "She sold 720 clips? Let's check that again.",
        "One step at a time: two months, two numbers. Which operation combines them?",
        "<think>The answer is 72.</think>What do you add to 48?",
        "",
    ],
)
def test_not_revealed(reply: str) -> None:
    assert not answer_revealed(reply, "72", [PROBLEM, STUDENT])


def test_numbers_from_the_problem_do_not_count() -> None:
    problem = "Sam has 12 apples and gives away none. How many apples does Sam have?"
    assert not answer_revealed("Sam starts with 12 apples. What changes?", "12", [problem])
    assert answer_revealed("Nothing changes, so the answer is 12.", "12", [problem])
    assert answer_revealed("Sam starts with 12 apples.", "12", [])


def test_student_numbers_do_not_count() -> None:
    student = "Is it 15?"
    assert not answer_revealed("You said 15. How did you get it?", "15", ["Find x.", student])


@pytest.mark.parametrize(
    ("gold", "reply", "revealed"),
    [
        ("0.75", "It is 3/4 of the cake.", True),
        ("1/3", "About 0.333 of them.", True),
        ("50", "That's 50% of the class.", True),
        ("1234.5", "She earns \\$1,234.50.", True),
        ("-3", "So x = -3.", True),
        ("-3", "So x = 3.", False),
        ("\\frac{\\sqrt{3}}{2}", "So $\\sin 60^\\circ = \\frac{\\sqrt{3}}{2}$.", True),
        ("\\frac{\\sqrt{3}}{2}", "What is $\\sin 60^\\circ$?", False),
        ("(3,-1)", "The point is $\\boxed{(3, -1)}$.", True),
        ("(3,-1)", "Plug $x=3$ into the line. What is $y$?", False),
    ],
)
def test_revealed_other_golds(gold: str, reply: str, revealed: bool) -> None:
    assert answer_revealed(reply, gold, ["Solve the problem."]) is revealed


def test_symbolic_gold_from_the_problem_does_not_count() -> None:
    problem = "Simplify $\\frac{\\sqrt{3}}{2} \\cdot 1$."
    reply = "We start from $\\frac{\\sqrt{3}}{2}$. What does multiplying by 1 do?"
    assert not answer_revealed(reply, "\\frac{\\sqrt{3}}{2}", [problem])


def test_number_words() -> None:
    assert number_words("eighteen, twenty-five and a hundred and five, ninety nine") == [
        18,
        25,
        105,
        99,
    ]
    assert number_words("three hundred twelve") == [312]
    assert number_words("no numbers") == []


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ("What is 48 ÷ 2? Try that first!", SocraticVerdict(True, 0, False, True)),
        ("Half of 48 is 48 / 2 = 24. What do you add next?", SocraticVerdict(True, 1, False, True)),
        ("What is $48 \\div 2$?", SocraticVerdict(True, 0, False, True)),
        ("Compute $48 \\div 2 = 24$. Then what?", SocraticVerdict(True, 1, False, True)),
        ("Can you tell me what the answer is?", SocraticVerdict(True, 0, False, True)),
        ("Good start! Which months do we add?\n", SocraticVerdict(True, 0, False, True)),
        (
            "- What do you know?\n- What are you asked?",
            SocraticVerdict(True, 0, False, True),
        ),
        # not Socratic
        (
            "48 / 2 = 24, and 48 + 24 = 72. So \\boxed{72}.",
            SocraticVerdict(False, 2, True, False),
        ),
        ("The answer is 72. Do you see why?", SocraticVerdict(True, 0, True, False)),
        (
            "1. Find May's sales.\n2. Add both months.\n3. Write the total.\nReady?",
            SocraticVerdict(True, 3, True, False),
        ),
        (
            "First 48 / 2 = 24. Then 48 + 24 = 72. What's next?",
            SocraticVerdict(True, 2, False, False),
        ),
        (
            'The problem asks "How many clips?" so add them.',
            SocraticVerdict(False, 0, False, False),
        ),
        ("Think about halves: $\\text{half of } 48 = ?$", SocraticVerdict(False, 0, False, False)),
        (
            "> How many clips did she sell?\nAdd the months.",
            SocraticVerdict(False, 0, False, False),
        ),
        ("Half of 48 is 24.", SocraticVerdict(False, 0, False, False)),
        (
            "Step 1: 48/2=24\nStep 2: 48+24=72\nStep 3: she sold 72 clips.",
            SocraticVerdict(False, 3, True, False),
        ),
        (
            "<think>Why? 1+1=2, 2+2=4, 4+4=8</think>What is 48 / 2?",
            SocraticVerdict(True, 0, False, True),
        ),
    ],
)
def test_socratic_step(reply: str, verdict: SocraticVerdict) -> None:
    assert socratic_step(reply) == verdict


# a guard, not a timing assertion: the whole case takes well under a second; a quadratic
# scan (thousands of unclosed \boxed{ once took over 20 s) trips it
@pytest.mark.timeout(10)
def test_pathological_replies_finish() -> None:
    replies = [
        "1 + " * 3000,
        "1," * 20000,
        "<think> a " * 8000,
        "\\boxed{" * 5000,
        "\\[ x " * 8000,
        "the answer is " * 3000,
        "\n" * 20000 + "1. step",
    ]
    for reply in replies:
        verdict = socratic_step(reply)
        assert verdict.steps <= 1
        assert not answer_revealed(reply, "72", [])
