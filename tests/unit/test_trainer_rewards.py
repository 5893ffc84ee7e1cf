"""RLVR rewards through the real math-verify pool: each distinct (gold, answer) pair is checked
once per call, with the same verdicts as the shared scorer's own batch function."""

from __future__ import annotations

from collections.abc import Iterable

from trainer_service.rewards import Problem, RewardWeights, score_replies
from tutorlab.scoring.mathverify import MathVerifier, VerifyResult
from tutorlab.scoring.verdicts import score_math_responses


class CountingVerifier(MathVerifier):
    """The real pool, remembering every pair sent to it."""

    def __init__(self) -> None:
        super().__init__(workers=1, timeout_s=5.0)
        self.sent: list[tuple[str, str]] = []

    async def verify_many(self, pairs: Iterable[tuple[str, str]]) -> list[VerifyResult]:
        pairs = list(pairs)
        self.sent.extend(pairs)
        return await super().verify_many(pairs)


REPLIES = [
    "So $x = 2^{1/2}$, the final answer is $\\boxed{2^{1/2}}$.",
    "Squaring both sides, $\\boxed{2^{1/2}}$.",
    "It is $\\boxed{\\sqrt{3}}$.",
    "Therefore $\\boxed{2^{1/2}}$.",
    "The answer is $\\boxed{\\sqrt{2}}$.",
    "I could not finish this one.",
]


async def test_a_group_sends_each_distinct_answer_to_math_verify_once() -> None:
    problem = Problem(
        id="m1", question="Solve $x^2 = 2$, $x > 0$.", answer="\\sqrt{2}", kind="math"
    )
    with CountingVerifier() as pool:
        rewards = await score_replies([(problem, r) for r in REPLIES], RewardWeights(), pool)
        assert pool.sent == [("\\sqrt{2}", "2^{1/2}"), ("\\sqrt{2}", "\\sqrt{3}")]
        # the shared scorer, one pair per reply, gives the same verdicts
        shared = await score_math_responses(
            [(problem.answer, r) for r in REPLIES], kind="math", verifier=pool
        )
    assert [r.correct for r in rewards] == [v.correct is True for v in shared]
    assert [r.correct for r in rewards] == [True, True, False, True, True, False]
    assert [r.formatted for r in rewards] == [True] * 5 + [False]
    assert [r.total for r in rewards] == [1.0, 1.0, 0.0, 1.0, 1.0, -0.1]
