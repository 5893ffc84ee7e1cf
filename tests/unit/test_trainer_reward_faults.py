"""A reply whose reward scoring raises is that sample's error, never a wrong answer (decision
0018): it has no reward, RLVR leaves it out of its group's advantages, a group whose samples all
failed is skipped for that reason, and the step's metrics count the failures with their causes."""

from __future__ import annotations

import numpy as np
import pytest
from tinker import types
from trainer_service.methods.rl import _group_datums, _reward_metrics, _skip_reason
from trainer_service.rewards import Problem, Reward, RewardWeights, score_replies

from tests.scoring_faults import BOOM, raising_scorer

__all__ = ["raising_scorer"]  # a fixture, used by name

CAUSE = "scoring failed: RuntimeError: rule exploded"
SOLVE = Problem(id="g1", question="What is 3 + 4?", answer="7")


async def test_a_reply_the_rules_raise_on_has_no_reward_and_the_others_are_scored(
    raising_scorer: None,
) -> None:
    replies = ["So \\boxed{7}.", f"{BOOM}: \\boxed{{7}}", "It is \\boxed{8}.", "Seven."]
    rewards = await score_replies([(SOLVE, r) for r in replies], RewardWeights())
    assert [r.total for r in rewards] == [1.0, None, 0.0, -0.1]
    assert [r.correct for r in rewards] == [True, None, False, False]
    assert [r.error for r in rewards] == [None, CAUSE, None, None]
    # a hint turn beside it is unaffected
    hint = Problem(id="g2", question="What is 3 + 4?", answer="7", mode="hint")
    mixed = await score_replies(
        [(hint, "What do you get when you add 3 and 4?"), (SOLVE, BOOM)], RewardWeights()
    )
    assert mixed[0].no_reveal is True and mixed[0].total == 1.5
    assert mixed[1] == Reward(None, None, None, None, None, CAUSE)


def _response(n: int) -> types.SampleResponse:
    return types.SampleResponse(
        sequences=[
            types.SampledSequence(
                stop_reason="stop",
                sequence_id=f"s{i}",
                tokens_np=np.asarray([10 + i, 20], np.int32),
                logprobs_np=np.asarray([-0.5, -0.5], np.float32),
            )
            for i in range(n)
        ]
    )


def _advantages(datum: types.Datum) -> list[float]:
    return [float(a) for a in datum.loss_fn_inputs["advantages"].to_numpy() if a != 0.0]


async def test_a_failed_sample_is_left_out_of_its_groups_advantages(
    raising_scorer: None,
) -> None:
    replies = ["So \\boxed{7}.", BOOM, "It is \\boxed{8}.", "So \\boxed{7}."]
    rewards = await score_replies([(SOLVE, r) for r in replies], RewardWeights())
    assert _skip_reason(rewards) is None
    datums = _group_datums([1, 2, 3], _response(4), rewards)
    assert datums is not None and len(datums) == 3  # no datum for the failed sample
    # the mean is over the three scored rewards (2/3), not over four with a zero
    kept = [d.model_input.to_ints()[3] for d in datums]
    assert kept == [10, 12, 13]
    assert [round(_advantages(d)[0], 5) for d in datums] == [0.33333, -0.66667, 0.33333]


async def test_a_group_whose_scoring_all_failed_is_skipped_for_that_reason(
    raising_scorer: None,
) -> None:
    failed = await score_replies([(SOLVE, BOOM)] * 3, RewardWeights())
    assert _skip_reason(failed) == "scoring_failed"
    assert _group_datums([1, 2, 3], _response(3), failed) is None
    # one scored sample left: nothing to compare it with
    one = await score_replies([(SOLVE, BOOM), (SOLVE, "\\boxed{7}")], RewardWeights())
    assert _skip_reason(one) == "constant_reward"


def test_step_metrics_count_failures_apart_from_wrong_answers() -> None:
    right = Reward(1.0, True, True, None, None)
    wrong = Reward(-0.1, False, False, None, None)
    failed = Reward(None, None, None, None, None, CAUSE)
    metrics = _reward_metrics([right, wrong, failed, failed])
    assert metrics["reward/mean"] == pytest.approx(0.45)
    assert metrics["reward/accuracy"] == 0.5 and metrics["reward/format_rate"] == 0.5
    assert metrics["reward/errors"] == 2 and metrics["reward/error_causes"] == {CAUSE: 2}
    assert _reward_metrics([failed])["reward/mean"] is None
    assert "reward/error_causes" not in _reward_metrics([right])
