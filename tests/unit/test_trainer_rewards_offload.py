"""RLVR rewards are scored on the scoring thread, off the trainer's event loop (decision 0018)."""

from __future__ import annotations

import threading

import pytest
from trainer_service.rewards import Problem, RewardWeights, score_replies
from tutorlab.scoring.extract import boxed_answers as real_boxed_answers


async def test_rewards_are_scored_on_the_scoring_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    scored_on: list[str] = []

    def boxed_answers(text: str) -> list[str]:
        scored_on.append(threading.current_thread().name)
        return real_boxed_answers(text)

    monkeypatch.setattr("trainer_service.rewards.boxed_answers", boxed_answers)
    solve = Problem(id="g1", question="What is 3 + 4?", answer="7")
    hint = Problem(id="g2", question="What is 3 + 4?", answer="7", mode="hint")
    solved, hinted = await score_replies(
        [(solve, "3 + 4 = 7, so \\boxed{7}."), (hint, "What do you get when you add 3 and 4?")],
        RewardWeights(),
    )
    assert solved.correct is True and solved.formatted is True and solved.total == 1.0
    assert hinted.no_reveal is True and hinted.asks_question is True
    assert scored_on == ["scoring"]
