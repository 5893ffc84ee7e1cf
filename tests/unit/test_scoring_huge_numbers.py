"""Numbers past Python's int-string limit (4,300 digits) in a reply: no answer, never an error."""

from __future__ import annotations

from fractions import Fraction

import pytest
from tutorlab.scoring import numeric_equal, parse_number, partial_match
from tutorlab.scoring.numeric import find_number_tokens
from tutorlab.scoring.tasks import TASK_SCORERS, ScoreInput, score_task

HUGE = "9" * 5000


@pytest.mark.parametrize(
    "text",
    [
        HUGE,
        f"-{HUGE}",
        f"${HUGE}",
        f"{HUGE}%",
        f"{HUGE}.5",
        f"{HUGE} 1/2",
        f"1e{HUGE}",
        f"1.5 \\times 10^{{{HUGE}}}",
        f"\\frac{{{HUGE}}}{{3}}",
        f"{HUGE}/{HUGE}",
    ],
)
def test_a_number_past_the_int_string_limit_is_no_number(text: str) -> None:
    assert parse_number(text) is None
    assert not numeric_equal("5", text)
    assert not partial_match("5", text)


def test_huge_tokens_are_skipped_and_the_others_kept() -> None:
    text = f"First {HUGE}, then 18 and 2.5"
    assert [t.value for t in find_number_tokens(text)] == [Fraction(18), Fraction(5, 2)]
    assert partial_match("18", text) and partial_match("2.5", text)
    assert not partial_match("7", text)


@pytest.mark.parametrize("scorer", TASK_SCORERS)
async def test_every_task_scorer_scores_a_reply_with_a_5000_digit_number(scorer: str) -> None:
    reply = f"Let me compute: {HUGE}. So the answer is \\boxed{{{HUGE}}}. #### {HUGE}"
    [(verdicts, headline)] = await score_task(scorer, [ScoreInput(reply, "18", ["q"])], None)
    assert headline not in ("correct", "revealed")
    assert "versions" in verdicts
