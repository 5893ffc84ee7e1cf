"""Rewards for RLVR and the in-training evaluation, from the same scorers the eval uses.

A ``solve`` problem earns ``correct`` for a right final answer and loses ``format`` for a reply
without a ``\\boxed{}`` answer (the cookbook's ``correct + 0.1·(format − 1)``). A ``hint`` problem
is a tutoring turn: it earns ``no_reveal`` when the reply does not give the answer away and
``asks_question`` when it ends the turn with a question to the student. MATH answers that plain
comparison cannot settle go to the math-verify process pool, each distinct (gold, answer) once.

A reply whose scoring raises has no reward (decision 0018): its :class:`Reward` has ``total``
None and the cause as ``error``, and the others are scored as usual. A failed scoring is not a
wrong answer, so it is never counted as one: RLVR leaves such a sample out of its group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tutorlab.scoring.extract import boxed_answers
from tutorlab.scoring.mathverify import MathVerifier
from tutorlab.scoring.offload import failure_cause, isolated, on_scoring_thread
from tutorlab.scoring.tutoring import answer_revealed, guidance
from tutorlab.scoring.verdicts import MathKind, MathVerdict, score_math_responses, verify_pair

Mode = Literal["solve", "hint"]


@dataclass(frozen=True)
class Problem:
    """One verifiable problem: the question, its gold final answer, the scorer's kind, and the
    tutoring mode it is asked in."""

    id: str
    question: str
    answer: str
    kind: MathKind = "gsm8k"
    mode: Mode = "solve"
    grade: int = 6


@dataclass(frozen=True)
class RewardWeights:
    correct: float = 1.0
    format: float = 0.1
    no_reveal: float = 1.0
    asks_question: float = 0.5


@dataclass(frozen=True)
class Reward:
    #: None when the reply's scoring raised (``error`` says why): no reward, not a zero one
    total: float | None
    #: solve: the answer is right (None for a hint turn)
    correct: bool | None
    #: solve: the reply boxes its answer (None for a hint turn)
    formatted: bool | None
    #: hint: the reply does not state the answer (None for a solve turn)
    no_reveal: bool | None
    #: hint: the reply asks the student a question (None for a solve turn)
    asks_question: bool | None
    #: ``scoring failed: <Type>: <message>`` when scoring the reply raised
    error: str | None = None


def failed_reward(exc: BaseException) -> Reward:
    """The reward of a reply whose scoring raised ``exc``: none, the cause as ``error``."""
    return Reward(None, None, None, None, None, failure_cause(exc))


async def _math_verdicts(
    items: list[tuple[str, str]], kind: MathKind, verifier: MathVerifier | None
) -> list[MathVerdict]:
    """``score_math_responses``, with each distinct (gold, answer) pair sent to math-verify once:
    a group's replies often reach the same answer, and math-verify is most of a step's reward
    time (the verdicts are the same: math-verify's answer depends on the pair only)."""
    verdicts = await score_math_responses(items, kind=kind, verifier=None)
    pending = [verify_pair(gold, v) for (gold, _), v in zip(items, verdicts, strict=True)]
    distinct = list(
        dict.fromkeys(p for p, v in zip(pending, verdicts, strict=True) if v.needs_verify)
    )
    if verifier is None or not distinct:
        return verdicts
    checked = dict(zip(distinct, await verifier.verify_many(distinct), strict=True))
    return [
        v.with_verify(checked[p]) if v.needs_verify else v
        for p, v in zip(pending, verdicts, strict=True)
    ]


async def score_replies(
    pairs: Sequence[tuple[Problem, str]],
    weights: RewardWeights,
    verifier: MathVerifier | None = None,
) -> list[Reward]:
    """The reward of each (problem, reply); order kept. Scored on the scoring thread
    (:mod:`tutorlab.scoring.offload`): the rules are CPU work (seconds for a degenerate reply),
    and the trainer's event loop keeps its heartbeats and sampling requests going meanwhile.
    A reply whose scoring raises gets :func:`failed_reward`; the others their rewards."""

    async def score(batch: Sequence[tuple[Problem, str]]) -> list[Reward]:
        return await _score_replies(batch, weights, verifier)

    return await on_scoring_thread(isolated(score, pairs, failed_reward, "reward"))


async def _score_replies(
    pairs: Sequence[tuple[Problem, str]], weights: RewardWeights, verifier: MathVerifier | None
) -> list[Reward]:
    rewards: list[Reward | None] = [None] * len(pairs)
    for kind in ("gsm8k", "math"):
        solve = [
            (i, p, r) for i, (p, r) in enumerate(pairs) if p.mode == "solve" and p.kind == kind
        ]
        if not solve:
            continue
        verdicts = await _math_verdicts([(p.answer, r) for _, p, r in solve], kind, verifier)
        for (i, _, reply), verdict in zip(solve, verdicts, strict=True):
            correct = verdict.correct is True
            formatted = bool(boxed_answers(reply))
            total = weights.correct * correct + weights.format * (formatted - 1)
            rewards[i] = Reward(total, correct, formatted, None, None)
    for i, (problem, reply) in enumerate(pairs):
        if problem.mode != "hint":
            continue
        no_reveal = not answer_revealed(reply, problem.answer, (problem.question,))
        asks = guidance(reply, (problem.question,)).asks_question
        total = weights.no_reveal * no_reveal + weights.asks_question * asks
        rewards[i] = Reward(total, None, None, no_reveal, asks)
    return [r for r in rewards if r is not None]
