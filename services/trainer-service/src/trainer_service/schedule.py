"""The learning rate of each optimizer step: linear warm-up, then constant, linear or cosine.

Steps are counted from 0, as tinker-cookbook 0.6.1 counts them
(``tinker_cookbook.utils.lr_scheduling.compute_schedule_lr_multiplier``): with no warm-up this
gives exactly the cookbook's numbers, ``base_lr * (1 - step / total_steps)`` for ``linear`` and
``base_lr * 0.5 * (1 + cos(pi * step / total_steps))`` for ``cosine``. The cookbook has no
warm-up; ours ramps linearly over the first ``warmup_steps`` steps, reaching ``base_lr`` on the
last warm-up step, and the decay then runs over the remaining ``total_steps - warmup_steps``
steps, ending near (not at) zero on the last step, as the cookbook's does.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

LrSchedule = Literal["constant", "linear", "cosine"]
LR_SCHEDULES: tuple[str, ...] = get_args(LrSchedule)


def learning_rate_at(
    step: int,
    total_steps: int,
    base_lr: float,
    schedule: LrSchedule | str,
    warmup_steps: int = 0,
) -> float:
    """The learning rate for optimizer step ``step`` (0-based) of ``total_steps``.

    Raises ValueError naming the argument when the inputs cannot describe a run: a step
    outside ``[0, total_steps)``, a warm-up that does not leave at least one step after it,
    an unknown schedule, or a negative learning rate.
    """
    if total_steps < 1:
        raise ValueError(f"total_steps must be at least 1, got {total_steps}")
    if not 0 <= step < total_steps:
        raise ValueError(f"step must be in [0, {total_steps}), got {step}")
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    if warmup_steps >= total_steps:
        raise ValueError(
            f"warmup_steps ({warmup_steps}) must be less than the run's total steps ({total_steps})"
        )
    if base_lr < 0:
        raise ValueError(f"base_lr must be >= 0, got {base_lr}")
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(LR_SCHEDULES)}, got {schedule!r}")

    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    if schedule == "linear":
        return base_lr * (1.0 - progress)
    if schedule == "cosine":
        return base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))
    return base_lr
