"""Short word problems the simulator works out itself: an amount to start with (or equal groups:
"3 bags with 4 apples each"), then amounts added or taken away, and a "how many" question —
"Tom has 3 bags with 4 apples each. He eats 2. How many apples are left?".

A problem is solved only when every number in it is used by exactly one of those steps;
anything else (rates, fractions, comparisons) gives None and the simulator answers generically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from tutorlab_sim.answers import format_number

_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
_NUMBER = r"(\d+(?:\.\d+)?|" + "|".join(_WORDS) + r")"
_ANY_NUMBER = re.compile(rf"(?<![\w.]){_NUMBER}(?![\w])", re.IGNORECASE)
_GROUPS = re.compile(
    rf"{_NUMBER}\s+([a-z]+)\s+(?:with|of|holding|that hold|that each hold)\s+{_NUMBER}\s+"
    r"([a-z]+)(?:\s+each|\s+in each|\s+apiece)\b",
    re.IGNORECASE,
)
_START = re.compile(
    rf"\b(?:has|had|have|owns|starts with|started with|there are|there were|buys|bought|"
    rf"picks|picked|collects|collected)\s+{_NUMBER}\s+([a-z]+)",
    re.IGNORECASE,
)
_TAKE = re.compile(
    rf"\b(eats|ate|gives away|gave away|gives|gave|loses|lost|sells|sold|uses|used|spends|"
    rf"spent|breaks|broke|drops|dropped|throws away|threw away|takes away|took away)\s+"
    rf"{_NUMBER}\b",
    re.IGNORECASE,
)
_ADD = re.compile(
    rf"\b(buys|bought|gets|got|finds|found|receives|received|picks|picked|adds|added|earns|"
    rf"earned|collects|collected)\s+{_NUMBER}\b",
    re.IGNORECASE,
)
_QUESTION = re.compile(r"\bhow (?:many|much)\b", re.IGNORECASE)
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True, slots=True)
class Worked:
    """A solved word problem: the working, one step per line, and the answer."""

    steps: tuple[str, ...]
    answer: str


def _value(text: str) -> Fraction:
    lowered = text.lower()
    return Fraction(_WORDS.index(lowered)) if lowered in _WORDS else Fraction(text)


def _show(value: Fraction) -> str:
    return format_number(value)


def solve(problem: str) -> Worked | None:
    """The working and answer of a short add/take-away/equal-groups problem, else None."""
    sentences = [s.strip() for s in _SENTENCES.split(problem.strip()) if s.strip()]
    if len(sentences) < 2:
        return None
    if _QUESTION.search(sentences[-1]) is None or not sentences[-1].endswith("?"):
        return None
    if _ANY_NUMBER.search(sentences[-1]):
        return None  # the question itself brings a number: not this kind of problem
    numbers = sum(len(_ANY_NUMBER.findall(s)) for s in sentences[:-1])
    total: Fraction | None = None
    steps: list[str] = []
    used = 0
    for sentence in sentences[:-1]:
        said = sentence.rstrip(".!")
        groups = _GROUPS.search(sentence)
        start = _START.search(sentence)
        if total is None and groups is not None:
            count, _, size, thing = groups.groups()
            total = _value(count) * _value(size)
            steps.append(f"{said}: {count} × {size} = {_show(total)} {thing}.")
            used += 2
            continue
        if total is None and start is not None:
            total = _value(start.group(1))
            steps.append(f"{said}: we start with {_show(total)}.")
            used += 1
            continue
        take, add = _TAKE.search(sentence), _ADD.search(sentence)
        if total is None or (take is None) == (add is None):
            return None  # no start, or a sentence that neither adds nor takes away (or both)
        step = take or add
        assert step is not None
        amount = _value(step.group(2))
        after = total - amount if take is not None else total + amount
        sign = "−" if take is not None else "+"
        steps.append(f"{said}: {_show(total)} {sign} {_show(amount)} = {_show(after)}.")
        total = after
        used += 1
    if total is None or used != numbers or total < 0:
        return None
    return Worked(steps=tuple(steps), answer=_show(total))
