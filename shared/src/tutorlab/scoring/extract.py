"""Final-answer extraction from a model response, by a cascade of rules.

The first rule that yields an answer wins (part of ``SCORER_VERSION``):

1. ``boxed``: the last ``\\boxed{...}`` or ``\\fbox{...}`` (balanced braces, ``\\boxed 5`` form);
2. ``hash``: the last ``#### N`` line (GSM8K style);
3. ``final_answer``: the last "final answer is ..." / "Final Answer: ...";
4. ``answer_is``: the last "answer is ..." / "answer: ..." / "answer would be ...";
5. ``last_number``: the last number in the text (``$1,234.50``, ``-5``, ``3/4``, ``50%``,
   ``\\frac{3}{4}``, ``1.5e6``).

A Qwen3 ``<think>...</think>`` block is removed first: nothing is extracted from reasoning.
After a cue (rules 2-4) the answer is the math span that follows (``$\\frac{1}{2}$``), else the
number that follows when it stands alone (``$18.`` -> ``$18``, ``**18** dollars`` -> ``18``),
else the rest of the sentence when it looks like an answer (it holds a digit or LaTeX, or is at
most three words: ``Evelyn``); otherwise the cue is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tutorlab.scoring._latex import command_arguments, math_spans, unwrap_commands
from tutorlab.scoring.numeric import _TOKEN, find_number_tokens

__all__ = [
    "Extraction",
    "ExtractionRule",
    "boxed_answers",
    "extract_answer",
    "stated_answers",
    "strip_thinking",
]

ExtractionRule = Literal["boxed", "hash", "final_answer", "answer_is", "last_number"]


@dataclass(frozen=True, slots=True)
class Extraction:
    """The extracted answer (None when no rule fired) and the rule that produced it."""

    value: str | None
    rule: ExtractionRule | None


_NO_ANSWER = Extraction(None, None)
_OPEN, _CLOSE = "<think>", "</think>"
_BOXES = ("boxed", "fbox")
_HASH = re.compile(r"####[ \t]*")
_FINAL = re.compile(r"final\s+answer\s*(?:\*\*)?\s*(?:is\b|:|=)(?:\s*\*\*)?\s*:?", re.IGNORECASE)
_ANSWER = re.compile(
    r"\banswer\s*(?:\*\*)?\s*(?:is\b|:|=|would\s+be\b|should\s+be\b)(?:\s*\*\*)?\s*:?",
    re.IGNORECASE,
)
_CUES: tuple[tuple[ExtractionRule, re.Pattern[str]], ...] = (
    ("hash", _HASH),
    ("final_answer", _FINAL),
    ("answer_is", _ANSWER),
)
_FILLER = re.compile(
    r"^(?:\s|[:=*]|(?:approximately|about|roughly|around|exactly|just|simply)\b|≈|~)+",
    re.IGNORECASE,
)
#: what may follow a number for it to stand alone (not "2\sqrt{3}", "2x", "5 + 3", "3^2")
_CONTINUES = re.compile(r"^(?:[\\^_({\[]|\s*[\\^_]|[A-Za-z]|\s*[-+*/=×÷·<>]\s*[\w\\(])")
_SENTENCE_END = re.compile(r"\.(?=\s|$)|[;!?\n]")
_MAX_WORDS = 3
_CUE_WINDOW = 400  # characters read after a cue


def strip_thinking(text: str) -> str:
    """The response without its ``<think>...</think>`` reasoning.

    A lone ``</think>`` (the opening tag was in the prompt) drops everything before it; an
    unclosed ``<think>`` (truncated reasoning) drops everything after it.
    """
    kept, pos = [], 0
    while (start := text.find(_OPEN, pos)) != -1:
        kept.append(text[pos:start])
        end = text.find(_CLOSE, start)
        if end == -1:
            pos = len(text)
            break
        pos = end + len(_CLOSE)
    kept.append(text[pos:])
    visible = "".join(kept)
    if _CLOSE in visible:
        visible = visible.rsplit(_CLOSE, 1)[1]
    return visible.strip()


def _tidy(value: str) -> str:
    value = value.replace("**", "").strip()
    while value.endswith((".", ",")) and not value.endswith("\\."):
        value = value[:-1].rstrip()
    return value


def boxed_answers(text: str) -> list[str]:
    """Contents of every ``\\boxed{}`` / ``\\fbox{}``, left to right (empty boxes skipped)."""
    answers = []
    for _, _, content in command_arguments(text, _BOXES):
        value = _tidy(unwrap_commands(content, _BOXES))
        if value:
            answers.append(value)
    return answers


def _looks_like_answer(clause: str) -> bool:
    if not clause:
        return False
    if re.search(r"[\d\\^=]", clause):
        return True
    return len(clause.split()) <= _MAX_WORDS


def _answer_after_cue(rest: str) -> str | None:
    """The answer at the start of ``rest`` (the text right after a cue), or None."""
    rest = rest.replace("**", "")
    filler = _FILLER.match(rest)
    if filler is not None:
        rest = rest[filler.end() :]
    paragraph = rest.split("\n\n", 1)[0]
    spans = math_spans(paragraph)
    if spans and spans[0][0] == 0:
        value = _tidy(spans[0][2])
        return value or None
    token = _TOKEN.match(paragraph)
    if token is not None:
        after = paragraph[token.end() :]
        if after.lstrip().startswith("?"):
            return None  # "Your answer is 12?" asks, it does not state
        if not _CONTINUES.match(after):
            return token.group(0).strip()
    end = _SENTENCE_END.search(paragraph)
    clause = _tidy(paragraph[: end.start()] if end else paragraph)
    clause = clause.strip("\"'“”` ")
    return clause if _looks_like_answer(clause) else None


def _cue_answers(text: str, cue: re.Pattern[str], *, last_only: bool = False) -> dict[int, str]:
    """Answers after each cue (or only the last one), keyed by where the answer text starts."""
    answers: dict[int, str] = {}
    matches = list(cue.finditer(text))
    for match in reversed(matches) if last_only else matches:
        if last_only and answers:
            break
        rest = text[match.end() : match.end() + _CUE_WINDOW]
        value = _answer_after_cue(rest)
        if value is not None:
            answers[match.end() + len(rest) - len(rest.lstrip(" :*\t"))] = value
    return answers


def extract_answer(response: str) -> Extraction:
    """The final answer of ``response`` by the rule cascade in the module docstring."""
    text = strip_thinking(response)
    boxed = boxed_answers(text)
    if boxed:
        return Extraction(boxed[-1], "boxed")
    for rule, cue in _CUES:
        answers = _cue_answers(text, cue, last_only=True)
        if answers:
            return Extraction(answers[max(answers)], rule)
    numbers = find_number_tokens(text)
    if numbers:
        return Extraction(_tidy(numbers[-1].text), "last_number")
    return _NO_ANSWER


def stated_answers(text: str) -> list[str]:
    """Every answer the text states outright: boxed, ``####``, "final answer"/"answer is".

    The last-number rule is not used: a number in passing is not a statement of the answer.
    """
    text = strip_thinking(text)
    stated: dict[int, str] = {}
    for _, cue in _CUES:
        stated.update(_cue_answers(text, cue))  # "Final answer: 5" is one statement, not two
    return boxed_answers(text) + [stated[start] for start in sorted(stated)]
