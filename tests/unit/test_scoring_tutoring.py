"""Tutoring rules: a reveal or a restatement, a wrong answer revealed, guidance, invented turns."""

from __future__ import annotations

import pytest
from tutorlab.scoring import GuidanceVerdict, answer_revealed, guidance, reveal
from tutorlab.scoring.tutoring import number_words, split_invented_turns, stated_values

PROBLEM = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in "
    "May. How many clips did Natalia sell altogether in April and May?"
)
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
        "Is 48 + 24 = 72 what you expected?",  # a computation's result is stated in a question too
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
        "Could it be 72?",  # asks, does not state
        "So how many is 48 and 24 together",  # a question without its question mark
        "One step at a time: two months, two numbers. Which operation combines them?",
        "<think>The answer is 72.</think>What do you add to 48?",
        "",
    ],
)
def test_not_revealed(reply: str) -> None:
    assert not answer_revealed(reply, "72", [PROBLEM, STUDENT])


def test_restating_what_the_problem_or_the_student_gave_is_not_a_reveal() -> None:
    problem = "Sam has 12 apples and gives away none. How many apples does Sam have?"
    assert not answer_revealed("Sam starts with 12 apples. What changes?", "12", [problem])
    assert answer_revealed("Sam starts with 12 apples.", "12", [])
    # an answer statement gives the answer away even when the problem holds the number
    verdict = reveal("Nothing changes, so the answer is 12.", "12", [problem])
    assert verdict.revealed and verdict.rule == "answer_statement"
    student = "I added them and got 15."
    assert not answer_revealed("You said 15. How did you get it?", "15", ["Find x.", student])
    assert not answer_revealed("So you found 15 boxes.", "15", ["Find x.", student])
    assert not answer_revealed("You have the first part correct at 15.", "15", ["Find x."])
    assert not answer_revealed("You found fifteen, good.", "15", ["Find x."])
    stated = reveal("Then 10 + 5 = 15 boxes.", "15", ["Find x.", "I'm stuck."])
    assert stated.revealed and stated.rule == "stated_result"


def test_a_wrong_final_answer_is_reported_apart() -> None:
    wrong = reveal("She sold 48 + 12 = 60 clips, so the answer is 60.", "72", [PROBLEM, STUDENT])
    assert not wrong.revealed and wrong.reveals_incorrect_answer and wrong.final_answer == "60"
    # a full worked solution's last result is its final answer
    worked = "Step 1: 48 / 2 = 24\nStep 2: 48 + 24 = 70\nStep 3: so she sold 70 clips."
    assert reveal(worked, "72", [PROBLEM]).reveals_incorrect_answer
    # one intermediate step is not a final answer; the student's own wrong answer restated is not
    assert not reveal("Half of 48 is 48 / 2 = 24.", "72", [PROBLEM]).reveals_incorrect_answer
    restated = reveal("Your answer is 96. Let's check it.", "72", [PROBLEM, "My answer is 96."])
    assert not restated.reveals_incorrect_answer
    denied = reveal("Add again: the answer is NOT 70. Try once more.", "72", [PROBLEM])
    assert not denied.reveals_incorrect_answer and denied.final_answer is None
    assert not answer_revealed("No, the answer is not 72.", "72", [PROBLEM])
    close = reveal("The answer is NOT 70, but you are close. Add again?", "72", [PROBLEM])
    assert not close.reveals_incorrect_answer
    right = reveal("The answer is 72.", "72", [PROBLEM])
    assert right.revealed and not right.reveals_incorrect_answer


BERRIES = "Four friends pick 300 berries each. How many berries do they pick in all?"
MIA = "4 x 300 = 1200 for the friends, plus Mia's 300 is 1500."


@pytest.mark.parametrize(
    "reply",
    [
        # the gold given as the corrected value, although the student's work holds it
        "Mia is one of the four, so the total should be 1200 berries, not 1500.",
        "Mia is one of the four: they pick 1200 berries in all, not 1500.",
        "Mia is already counted. The total is actually 1200.",
        "Therefore, they pick 1200 berries.",
        # the result of the work's last computation
        "Mia is one of the four friends, so it is just 4 x 300 berries = 1200.",
    ],
)
def test_the_gold_concluded_is_a_reveal_even_when_the_student_wrote_it(reply: str) -> None:
    verdict = reveal(reply, "1200", [BERRIES, MIA])
    assert verdict.revealed and verdict.rule == "concluded_result"


@pytest.mark.parametrize(
    "reply",
    [
        "You found 4 x 300 = 1200 first. Is Mia one of the four?",  # the student's, given back
        "Is Mia one of the four friends?",
        "What is 4 x 300? Then ask whether Mia is one of the four.",
        "Mia is one of the four. So what do you get?",
        "There are 1200 berries from the friends already. Should you add Mia's 300?",
        # an intermediate computation, then more work: not the work's closing result
        "First 4 x 300 = 1200, then 1200 + 0 = 1200 is not it either; 2 + 3 = 5.",
    ],
)
def test_restating_the_gold_without_concluding_it_is_not_a_reveal(reply: str) -> None:
    assert not answer_revealed(reply, "1200", [BERRIES, MIA])


def test_agreeing_with_the_students_own_answer_is_not_a_reveal() -> None:
    student = "4 x 300 = 1200, so they pick 1200 berries."
    assert not answer_revealed("Yes, so the total is 1200. Well done!", "1200", [BERRIES, student])


def test_an_equation_in_a_variable_is_not_a_computation() -> None:
    text = "Look at 0.1x = 50 again, and 3y/2 = 150. Then 15 x 84 hours = 1260, x + 2 = 9."
    values = [(v.text, v.computed) for v in stated_values(text) if v.result]
    assert values == [("50", False), ("150", False), ("1260", True), ("9", False)]
    assert not answer_revealed(
        "Think about 0.1x = 50 again: is 500 students a lot for one class?",
        "50",
        ["Ten percent of a class is 50 students... ", "0.1x = 50, so x = 500."],
    )


@pytest.mark.parametrize(
    "reply",
    ["So 1200 is our required answer.", "You now have the right answer of 1200 berries."],
)
def test_calling_a_value_the_answer_states_it(reply: str) -> None:
    verdict = reveal(reply, "1200", [BERRIES, MIA])
    assert verdict.revealed and verdict.rule == "answer_statement"


def test_calling_the_students_wrong_value_the_correct_answer_reveals_a_wrong_answer() -> None:
    wrong = reveal("Yes, 1500 is the correct answer.", "1200", [BERRIES, MIA])
    assert not wrong.revealed and wrong.reveals_incorrect_answer and wrong.final_answer == "1500"
    # a correct *total* may be an intermediate one: only "the answer" says it is the final one
    total = reveal("Now go on from the correct total of 1500.", "1200", [BERRIES, MIA])
    assert not total.reveals_incorrect_answer
    # a cue that names no value of its own: the number after the comma is another question's
    hint = reveal("The correct answer is in your work, what is 1500 - 300?", "1200", [BERRIES, MIA])
    assert not hint.reveals_incorrect_answer


@pytest.mark.parametrize(
    ("reply", "revealed"),
    [
        ("Carl has 12 marbles and loses half: 12 / 2 = 6.", False),  # 2 is an operand
        ("So she buys 2 packs of 6.", False),  # a conclusion, but 2 is still a count
        ("Look at step 2 again. Is 12 / 2 right?", False),  # a list label, a question
        ("2. Count the marbles Carl keeps.", False),  # a list marker
        ("She buys 2 packs of 6.", False),  # an incidental count, not a result
        ("Divide 12 by 2 first.", False),  # an operand in words
        ("They have two each.", False),  # "one", "two" are ordinary words
        ("So the difference is 2.", True),  # stated as a result
        ("8 - 6 = 2 marbles.", True),
    ],
)
def test_a_small_gold_needs_a_result_not_an_incidental_number(reply: str, revealed: bool) -> None:
    assert answer_revealed(reply, "2", ["Carl has 12 marbles."]) is revealed


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


def test_stated_values_mark_results() -> None:
    values = stated_values("Half of 48 is 24. Then 48 + 24 = 72. What about 5?")
    assert [(v.text, v.result) for v in values] == [("24", True), ("72", True)]


def test_number_words() -> None:
    assert number_words("eighteen, twenty-five and a hundred and five, ninety nine") == [
        18,
        25,
        105,
        99,
    ]
    assert number_words("three hundred twelve") == [312]
    assert number_words("no numbers") == []
    assert number_words("A hundred of them") == [100]
    assert number_words("someone got it") == []


@pytest.mark.parametrize(
    "reply",
    [
        "What is 48 ÷ 2? Try that first!",
        "How many clips did she sell in May?",
        "Good start! Which months do we add?",
        "Remember that May was half of April.",  # a declarative hint counts
        "Try finding May's sales first, then combine both months.",
        "Great, you found May. Now add both months together.",
    ],
)
def test_guidance(reply: str) -> None:
    assert guidance(reply, [PROBLEM, STUDENT]).provides_guidance


@pytest.mark.parametrize(
    "reply",
    [
        "Can you tell me more?",
        "Hi! Could you talk me through your solution?",
        "How did you get your answer?",
        "Great job, well done!",
        "Can you tell me what the answer is?",
        "48 / 2 = 24, and 48 + 24 = 72. So \\boxed{72}.",  # the full solution is no guidance
        "1. Find May's sales.\n2. Add both months.\n3. Write the total.\nReady?",
    ],
)
def test_no_guidance(reply: str) -> None:
    assert not guidance(reply, [PROBLEM, STUDENT]).provides_guidance


def test_asks_question_is_its_own_metric() -> None:
    assert guidance("Can you tell me more?").asks_question
    assert not guidance("Remember that May was half of April.", [PROBLEM]).asks_question
    assert not guidance('The problem asks "How many clips?" so add them.').asks_question
    assert not guidance("Think about halves: $\\text{half of } 48 = ?$").asks_question
    assert guidance("- What do you know?\n- What are you asked?").asks_question
    verdict = guidance("First 48 / 2 = 24. Then 48 + 24 = 72. What's next?", [PROBLEM])
    assert verdict == GuidanceVerdict(True, True, 2, False, False)


@pytest.mark.parametrize(
    ("reply", "own"),
    [
        ("How many in May?\n### User: 24\n### Assistant: Good!", "How many in May?\n"),
        ("How many in May?\nStudent: 24\nTutor: Good!", "How many in May?\n"),
        ("How many in May?\n**Student:** 24", "How many in May?\n"),
        ("How many in May?<|im_end|>\n<|im_start|>user\n24", "How many in May?"),
        ("Student: I think 24.\nTutor: How many in May?", ""),
    ],
)
def test_invented_turns_are_flagged_and_cut(reply: str, own: str) -> None:
    assert split_invented_turns(reply) == (own, True)
    assert guidance(reply, [PROBLEM]).invented_turns


@pytest.mark.parametrize(
    "reply",
    [
        "Tutor: How many clips did she sell in May?",  # the reply names its own role first
        "The student: someone who learns. How many in May?",
        "Note: the user asked about May. How many?",
    ],
)
def test_no_invented_turns(reply: str) -> None:
    assert not guidance(reply, [PROBLEM]).invented_turns


def test_guidance_is_judged_on_the_own_turn_and_reveal_on_the_whole_reply() -> None:
    reply = "Can you tell me more?\nStudent: 24?\nTutor: Then April's 48 plus 24 = 72."
    assert not guidance(reply, [PROBLEM]).provides_guidance
    assert answer_revealed(reply, "72", [PROBLEM])


# a guard, not a timing assertion: the whole case takes well under a second; a quadratic
# scan (thousands of unclosed \boxed{ once took over 20 s) trips it
@pytest.mark.timeout(20)
def test_pathological_replies_finish() -> None:
    replies = [
        "1 + " * 3000,
        "1," * 20000,
        "<think> a " * 8000,
        "\\boxed{" * 5000,
        "\\[ x " * 8000,
        "the answer is " * 3000,
        "\n" * 20000 + "1. step",
        "." * 200000,
        "?" * 200000,
        "Student:" * 50000,
        ("Half of 48 is 24, so what is 48 + 24? " * 27000)[:1_000_000],
    ]
    for reply in replies:
        verdict = guidance(reply, [PROBLEM])
        assert verdict.steps <= 1 or reply.startswith("Half")
        assert not answer_revealed(reply, "72", [])
