"""Top-level scorers: (gold, response) -> a plain dataclass verdict (``dataclasses.asdict``).

Math (``SCORER_VERSION``): the answer is extracted by ``extract_answer``; it is correct when it
equals the gold as a normalized string (``exact_match``) or as a number (``numeric_equal``, a
pure arithmetic expression evaluated exactly), or, for ``kind="math"`` only, when math-verify
says so. An extracted equation or computation (``3*3 + 2*2 = 13``, ``x = 5``) is compared by the
value after its last ``=`` unless the gold is itself an equation. A gold that is no number
(``odd``, ``\\text{(C)}``, an interval) is never compared with a number picked from the text:
without a stated answer the closing sentence is compared as text (``final_text``: the gold, as
a word, in that sentence, and no negation there). A contradictory reply (two different final
values) is not correct. ``fallback`` says the answer was guessed from where the reply ends
(``FALLBACK_RULES``); results report accuracy with and without those.

``score_math_response`` is pure and fast and leaves the math-verify part to the caller: a
verdict with ``needs_verify`` gets its answer checked with ``MathVerifier`` and folded in with
``MathVerdict.with_verify``; ``score_math_responses`` does both for a batch. ``correct`` is None
while that verdict is pending or when math-verify failed
(timeout, error): a failed check is never a wrong answer.

The tutoring and safety scorers live in ``tutoring`` and ``refusal`` and are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from tutorlab.scoring.extract import (
    _NEGATED,
    FALLBACK_RULES,
    SCAN_CAP,
    ExtractionRule,
    extract_answer,
    strip_thinking,
)
from tutorlab.scoring.mathverify import MathVerifier, VerifyResult
from tutorlab.scoring.numeric import (
    exact_match,
    normalize_answer,
    numeric_equal,
    parse_number,
    partial_match,
)
from tutorlab.scoring.refusal import RefusalLabel, RefusalVerdict, classify_refusal
from tutorlab.scoring.tutoring import GuidanceVerdict, answer_revealed, guidance

__all__ = [
    "GuidanceVerdict",
    "MathKind",
    "MathVerdict",
    "RefusalLabel",
    "RefusalVerdict",
    "answer_revealed",
    "classify_refusal",
    "guidance",
    "score_math_response",
    "score_math_responses",
    "score_math_responses_sync",
]

MathKind = Literal["gsm8k", "math"]


@dataclass(frozen=True, slots=True)
class MathVerdict:
    """How one response scored against its gold answer.

    ``invalid``: no answer could be extracted (for ``gsm8k``: or it is not a number).
    ``partial_match``: the gold appears anywhere in the visible response (a diagnostic).
    ``needs_verify``: the verdict waits for math-verify (``kind="math"``, extracted, and neither
    string nor number matched). ``math_verify``/``verify_error``: that check's outcome.
    ``correct``: True/False, or None while pending or when the check failed.
    ``fallback``: the rule that fired guessed the answer from the reply's end (no statement).
    ``contradictory``: the reply states a different value after its answer (``conflict``).
    """

    kind: MathKind
    extracted: str | None
    rule: ExtractionRule | None
    #: for an equation or computation answer, the value after its last ``=`` (what is compared)
    equation_value: str | None
    fallback: bool
    contradictory: bool
    conflict: str | None
    exact_match: bool
    numeric_match: bool
    partial_match: bool
    invalid: bool
    needs_verify: bool
    math_verify: bool | None
    verify_error: str | None
    correct: bool | None

    def with_verify(self, result: VerifyResult) -> MathVerdict:
        """This verdict with math-verify's result folded in."""
        if self.contradictory:
            correct: bool | None = False
        elif self.exact_match or self.numeric_match:
            correct = True
        elif self.invalid:
            correct = False
        else:
            correct = result.equal if result.error is None else None
        return replace(
            self,
            needs_verify=False,
            math_verify=result.equal,
            verify_error=result.error,
            correct=correct,
        )


def _right_side(value: str, gold: str) -> str | None:
    """The value after the last ``=`` of an equation or computation answer, unless the gold is
    an equation too (``y = 2x + 3``) or the sides are inequalities."""
    if "=" not in value or "=" in gold or re.search(r",|;|\\text\{\s*and|\band\b", value):
        return None  # several equations ("x = 2, y = 3") are one answer, not a chain
    head, _, right = value.rpartition("=")
    if head.endswith(("<", ">", "!", "\\leq", "\\geq", "\\neq")):
        return None
    right = right.strip()
    return right or None


@lru_cache(maxsize=4096)
def _is_word(gold: str) -> bool:
    """A gold that is a word or a choice (``odd``, ``yes``, ``(C)``): text, not mathematics."""
    return normalize_answer(gold).strip("()").isalpha()


def _is_numeric_gold(gold: str) -> bool:
    return parse_number(gold) is not None


def _text_match(gold: str, sentence: str) -> bool:
    """Whether the closing sentence states the text gold (``odd``, ``(C)``, ``yes``)."""
    if exact_match(gold, sentence):
        return True
    needle = normalize_answer(gold).lower()
    if not needle or _NEGATED.search(sentence):
        return False
    if needle.isalpha():
        words = normalize_answer_words(sentence)
        return re.search(rf"(?<![a-z]){re.escape(needle)}(?![a-z])", words) is not None
    haystack = normalize_answer(sentence).lower()
    before = "(?<![a-z0-9])" if needle[0].isalnum() else ""
    after = "(?![a-z0-9])" if needle[-1].isalnum() else ""
    return re.search(before + re.escape(needle) + after, haystack) is not None


def normalize_answer_words(text: str) -> str:
    """Lower-case text with LaTeX wrappers and markup gone, words kept apart."""
    return " ".join(normalize_answer(word).lower() for word in text.split())


def score_math_response(
    gold: str, response: str, *, kind: MathKind, problem: str | None = None
) -> MathVerdict:
    """Score ``response`` against the ``gold`` final answer (pure; no math-verify).

    ``problem``: the problem text, if known (its numbers are not taken for the answer by the
    last-number fallback while the closing sentence holds another number)."""
    if kind not in ("gsm8k", "math"):
        raise ValueError(f"kind must be 'gsm8k' or 'math', got {kind!r}")
    visible = strip_thinking(response)
    numeric_gold = _is_numeric_gold(gold)
    extraction = extract_answer(
        visible, problem=problem, numeric_gold=numeric_gold, text_gold=_is_word(gold)
    )
    value = extraction.value
    right = None if value is None else _right_side(value, gold)
    if extraction.rule == "final_text":
        exact = value is not None and _text_match(gold, value)
        numeric = False
    else:
        exact = exact_match(gold, value) or (right is not None and exact_match(gold, right))
        numeric = numeric_equal(gold, value) or (right is not None and numeric_equal(gold, right))
    contradictory = extraction.conflict is not None
    invalid = value is None or (
        kind == "gsm8k"
        and parse_number(value) is None
        and (right is None or parse_number(right) is None)
    )
    needs_verify = (
        kind == "math"
        and not invalid
        and not (exact or numeric)
        and not contradictory
        and not (extraction.rule == "final_text" and _is_word(gold))
    )
    if contradictory:
        correct: bool | None = False
    elif exact or numeric:
        correct = True
    elif needs_verify:
        correct = None
    else:
        correct = False
    return MathVerdict(
        kind=kind,
        extracted=value,
        rule=extraction.rule,
        equation_value=right,
        fallback=extraction.rule in FALLBACK_RULES,
        contradictory=contradictory,
        conflict=extraction.conflict,
        exact_match=exact,
        numeric_match=numeric,
        partial_match=partial_match(
            gold, visible if len(visible) <= SCAN_CAP else visible[-SCAN_CAP:]
        ),
        invalid=invalid,
        needs_verify=needs_verify,
        math_verify=None,
        verify_error=None,
        correct=correct,
    )


def verify_pair(gold: str, verdict: MathVerdict) -> tuple[str, str]:
    """The (gold, answer) pair math-verify checks for a verdict that ``needs_verify``: an equation
    answer is checked by the value after its last ``=``."""
    return gold, verdict.equation_value or verdict.extracted or ""


def _pending(
    golds: Sequence[str], verdicts: list[MathVerdict]
) -> tuple[list[int], list[tuple[str, str]]]:
    indexes = [i for i, v in enumerate(verdicts) if v.needs_verify]
    return indexes, [verify_pair(golds[i], verdicts[i]) for i in indexes]


def _score_all(
    items: Sequence[tuple[str, str]], kind: MathKind, problems: Sequence[str | None] | None
) -> list[MathVerdict]:
    if problems is None:
        return [score_math_response(gold, response, kind=kind) for gold, response in items]
    if len(problems) != len(items):
        raise ValueError(f"{len(problems)} problems for {len(items)} items")
    return [
        score_math_response(gold, response, kind=kind, problem=problem)
        for (gold, response), problem in zip(items, problems, strict=True)
    ]


async def score_math_responses(
    items: Sequence[tuple[str, str]],
    *,
    kind: MathKind,
    verifier: MathVerifier | None,
    problems: Sequence[str | None] | None = None,
) -> list[MathVerdict]:
    """Score ``(gold, response)`` pairs; for ``kind="math"`` the pending ones go to ``verifier``
    in one batch. Without a verifier, pending verdicts stay pending (``correct`` None).
    ``problems``: each item's problem text, or None (``score_math_response``)."""
    verdicts = _score_all(items, kind, problems)
    golds = [gold for gold, _ in items]
    indexes, pairs = _pending(golds, verdicts)
    if verifier is not None and pairs:
        for i, result in zip(indexes, await verifier.verify_many(pairs), strict=True):
            verdicts[i] = verdicts[i].with_verify(result)
    return verdicts


def score_math_responses_sync(
    items: Sequence[tuple[str, str]],
    *,
    kind: MathKind,
    verifier: MathVerifier | None,
    problems: Sequence[str | None] | None = None,
) -> list[MathVerdict]:
    """Blocking ``score_math_responses`` for scripts."""
    verdicts = _score_all(items, kind, problems)
    golds = [gold for gold, _ in items]
    indexes, pairs = _pending(golds, verdicts)
    if verifier is not None and pairs:
        for i, result in zip(indexes, verifier.verify_many_sync(pairs), strict=True):
            verdicts[i] = verdicts[i].with_verify(result)
    return verdicts
