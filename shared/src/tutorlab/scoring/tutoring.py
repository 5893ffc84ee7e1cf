"""Tutoring rules: did a reply give the answer away, and is it one Socratic step?

Rules (``RULES_VERSION``), applied to the reply without its ``<think>`` block:

``answer_revealed``
    1. The reply states an answer (``\\boxed{}``, ``####``, "final answer", "answer is") equal to
       the gold (normalized string, or number): revealed.
    2. Numeric gold: any number in the reply equal to the gold (``numeric_equal``: ``$18``,
       ``18.00``, ``1,800`` != 18), or spelled out (``eighteen``, ``twenty-five``; three and up:
       "one"/"two" are ordinary words), reveals it, unless the gold value already appears in
       ``context_texts`` (the problem, the student's message), where only rule 1 counts. A division
       written out (``48/2``) is a question, not the answer, when the gold is an integer.
    3. Other (LaTeX) golds: the normalized gold (3+ characters) appears in the normalized reply and
       not in the context. Equivalent forms need math-verify: check ``stated_answers(reply)``
       against the gold with ``MathVerifier`` and count a match as revealed.

``socratic_step``
    - ``asks_question``: a sentence ends in ``?`` outside math, code and quotes.
    - ``steps``: computation equations ``a op b = c`` (a chain counts once; GSM8K ``<<..>>``
      annotations are dropped) plus numbered list items / "Step N" lines with no equation that are
      not questions.
    - ``full_solution``: a boxed answer, an answer statement holding a digit or LaTeX, or 3+ steps.
    - ``ok``: asks a question, at most one step, no full solution.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from tutorlab.scoring._latex import strip_math_spans
from tutorlab.scoring.extract import boxed_answers, stated_answers, strip_thinking
from tutorlab.scoring.numeric import (
    exact_match,
    normalize_answer,
    numeric_equal,
    parse_number,
    partial_match,
)

__all__ = ["SocraticVerdict", "answer_revealed", "number_words", "socratic_step"]

_UNIT_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
)
_UNITS = {word: value for value, word in enumerate(_UNIT_WORDS.split(" "))}
_TEN_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety"
_TENS = {word: 10 * (value + 2) for value, word in enumerate(_TEN_WORDS.split(" "))}
_MIN_WORD_VALUE = 3
_MIN_SYMBOLIC_GOLD = 3
_MAX_STEPS = 1
_FULL_SOLUTION_STEPS = 3


def _read_number_words(words: list[str], i: int) -> tuple[int | None, int]:
    """The number spelled from ``words[i]`` on (0..999) and how many words it used."""
    j, total = i, None
    if (
        j + 1 < len(words)
        and words[j + 1] == "hundred"
        and (words[j] == "a" or 1 <= _UNITS.get(words[j], 0) <= 9)
    ):
        total = 100 * (1 if words[j] == "a" else _UNITS[words[j]])
        j += 2
        after_and = words[j + 1] if j + 1 < len(words) else ""
        if words[j : j + 1] == ["and"] and (after_and in _UNITS or after_and in _TENS):
            j += 1
    if j < len(words) and words[j] in _TENS:
        total = (total or 0) + _TENS[words[j]]
        j += 1
        if j < len(words) and 1 <= _UNITS.get(words[j], 0) <= 9:
            total += _UNITS[words[j]]
            j += 1
    elif j < len(words) and words[j] in _UNITS:
        total = (total or 0) + _UNITS[words[j]]
        j += 1
    return total, max(1, j - i)


def number_words(text: str) -> list[int]:
    """Numbers spelled out in ``text`` (0..999: ``eighteen``, ``twenty-five``, ``a hundred``)."""
    words = re.findall(r"[a-z]+", text.lower())
    found, i = [], 0
    while i < len(words):
        value, used = _read_number_words(words, i)
        if value is not None:
            found.append(value)
        i += used
    return found


def _mentions(gold: str, gold_value: Fraction, text: str) -> bool:
    """Whether ``text`` holds the numeric gold as a number token or (3+) a number word."""
    if partial_match(gold, text):
        return True
    return any(v >= _MIN_WORD_VALUE and v == gold_value for v in number_words(text))


def answer_revealed(reply: str, gold: str, context_texts: Iterable[str] = ()) -> bool:
    """Whether ``reply`` gives away the gold final answer (module docstring: the rules)."""
    text = strip_thinking(reply)
    if any(exact_match(gold, s) or numeric_equal(gold, s) for s in stated_answers(text)):
        return True
    context = "\n".join(context_texts)
    gold_value = parse_number(gold)
    if gold_value is not None:
        return not _mentions(gold, gold_value, context) and _mentions(gold, gold_value, text)
    needle = normalize_answer(gold)
    if len(needle) < _MIN_SYMBOLIC_GOLD or needle in normalize_answer(context):
        return False
    return needle in normalize_answer(text)


@dataclass(frozen=True, slots=True)
class SocraticVerdict:
    """One Socratic step: a question to the student, at most one step, no full solution."""

    asks_question: bool
    steps: int
    full_solution: bool
    ok: bool


_QUOTED = re.compile(r"\"[^\"\n]*\"|“[^”\n]*”|`[^`\n]*`|^\s*>.*$", re.M)
_QUESTION = re.compile(r"\?(?=[\s\"'”’)*_\]]*(?:$|\s))")
_CALC_NOTE = re.compile(r"<<[^>]*>>")
_OPERAND = r"\(?[-−]?\\?\$?(?:\d[\d,]*+(?:\.\d+)?+|\\[dt]?frac\{[^{}]*\}\{[^{}]*\})%?\)?"
_OPERATOR = r"(?:[-+*/×÷·x]|\\times|\\cdot|\\div)"
# a chain "a op b op c" (atomic: matched once, never re-tried from inside), then "= d"
_CHAIN = re.compile(rf"(?<![\w.,])(?>{_OPERAND}(?:[ \t]*+{_OPERATOR}[ \t]*+{_OPERAND})++)")
_RESULT = re.compile(rf"[ \t]*+=[ \t]*+{_OPERAND}")
_NUMBERED = re.compile(
    r"^[ \t]*(?:\d+[.)]|step[ \t]*\d+[ \t]*[:.)-]?)[ \t]*(?P<item>.*)$", re.I | re.M
)


def _count_equations(text: str) -> int:
    return sum(1 for chain in _CHAIN.finditer(text) if _RESULT.match(text, chain.end()))


def _count_steps(text: str) -> int:
    work = _CALC_NOTE.sub("", text)
    steps = _count_equations(work)
    for match in _NUMBERED.finditer(work):
        item = match.group("item").strip()
        if item and not item.endswith("?") and not _count_equations(item):
            steps += 1
    return steps


def socratic_step(reply: str) -> SocraticVerdict:
    """Check one tutoring reply against the Socratic rule (module docstring: the rules)."""
    text = strip_thinking(reply)
    prose = _QUOTED.sub(" ", strip_math_spans(text))
    asks_question = _QUESTION.search(prose) is not None
    steps = _count_steps(text)
    states_answer = bool(boxed_answers(text)) or any(
        re.search(r"[\d\\]", answer) for answer in stated_answers(text)
    )
    full_solution = states_answer or steps >= _FULL_SOLUTION_STEPS
    ok = asks_question and steps <= _MAX_STEPS and not full_solution
    return SocraticVerdict(asks_question, steps, full_solution, ok)
