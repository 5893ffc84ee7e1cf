"""Top-level scorers: (gold, response) -> a plain dataclass verdict (``dataclasses.asdict``).

Math (``SCORER_VERSION``): the answer is extracted by ``extract_answer``; it is correct when it
equals the gold as a normalized string (``exact_match``) or as a number (``numeric_equal``), or,
for ``kind="math"`` only, when math-verify says so. ``score_math_response`` is pure and fast and
leaves the math-verify part to the caller: a verdict with ``needs_verify`` gets its answer checked
with ``MathVerifier`` and folded in with ``MathVerdict.with_verify``; ``score_math_responses`` does
both for a batch. ``correct`` is None while that verdict is pending or when math-verify failed
(timeout, error): a failed check is never a wrong answer.

The tutoring and safety scorers live in ``tutoring`` and ``refusal`` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from tutorlab.scoring.extract import ExtractionRule, extract_answer, strip_thinking
from tutorlab.scoring.mathverify import MathVerifier, VerifyResult
from tutorlab.scoring.numeric import exact_match, numeric_equal, parse_number, partial_match
from tutorlab.scoring.refusal import RefusalLabel, RefusalVerdict, classify_refusal
from tutorlab.scoring.tutoring import SocraticVerdict, answer_revealed, socratic_step

__all__ = [
    "MathKind",
    "MathVerdict",
    "RefusalLabel",
    "RefusalVerdict",
    "SocraticVerdict",
    "answer_revealed",
    "classify_refusal",
    "score_math_response",
    "score_math_responses",
    "score_math_responses_sync",
    "socratic_step",
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
    """

    kind: MathKind
    extracted: str | None
    rule: ExtractionRule | None
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
        if self.exact_match or self.numeric_match:
            correct: bool | None = True
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


def score_math_response(gold: str, response: str, *, kind: MathKind) -> MathVerdict:
    """Score ``response`` against the ``gold`` final answer (pure; no math-verify)."""
    if kind not in ("gsm8k", "math"):
        raise ValueError(f"kind must be 'gsm8k' or 'math', got {kind!r}")
    visible = strip_thinking(response)
    extraction = extract_answer(visible)
    value = extraction.value
    exact = exact_match(gold, value)
    numeric = value is not None and numeric_equal(gold, value)
    invalid = value is None or (kind == "gsm8k" and parse_number(value) is None)
    needs_verify = kind == "math" and not invalid and not (exact or numeric)
    if exact or numeric:
        correct: bool | None = True
    elif needs_verify:
        correct = None
    else:
        correct = False
    return MathVerdict(
        kind=kind,
        extracted=value,
        rule=extraction.rule,
        exact_match=exact,
        numeric_match=numeric,
        partial_match=partial_match(gold, visible),
        invalid=invalid,
        needs_verify=needs_verify,
        math_verify=None,
        verify_error=None,
        correct=correct,
    )


def _pending(
    golds: Sequence[str], verdicts: list[MathVerdict]
) -> tuple[list[int], list[tuple[str, str]]]:
    indexes = [i for i, v in enumerate(verdicts) if v.needs_verify]
    return indexes, [(golds[i], verdicts[i].extracted or "") for i in indexes]


def _score_all(items: Sequence[tuple[str, str]], kind: MathKind) -> list[MathVerdict]:
    return [score_math_response(gold, response, kind=kind) for gold, response in items]


async def score_math_responses(
    items: Sequence[tuple[str, str]], *, kind: MathKind, verifier: MathVerifier | None
) -> list[MathVerdict]:
    """Score ``(gold, response)`` pairs; for ``kind="math"`` the pending ones go to ``verifier``
    in one batch. Without a verifier, pending verdicts stay pending (``correct`` None)."""
    verdicts = _score_all(items, kind)
    golds = [gold for gold, _ in items]
    indexes, pairs = _pending(golds, verdicts)
    if verifier is not None and pairs:
        for i, result in zip(indexes, await verifier.verify_many(pairs), strict=True):
            verdicts[i] = verdicts[i].with_verify(result)
    return verdicts


def score_math_responses_sync(
    items: Sequence[tuple[str, str]], *, kind: MathKind, verifier: MathVerifier | None
) -> list[MathVerdict]:
    """Blocking ``score_math_responses`` for scripts."""
    verdicts = _score_all(items, kind)
    golds = [gold for gold, _ in items]
    indexes, pairs = _pending(golds, verdicts)
    if verifier is not None and pairs:
        for i, result in zip(indexes, verifier.verify_many_sync(pairs), strict=True):
            verdicts[i] = verdicts[i].with_verify(result)
    return verdicts
