"""Job ``plan_training``: turn a training config into a step plan, the trainer's dry run."""

from __future__ import annotations

import asyncio
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from tutorlab.jobs.runtime import JobContext


class PlanParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["sft", "distillation", "rlvr"] = "sft"
    base_model: str = "Qwen/Qwen3-8B"
    num_examples: int = Field(ge=1, le=10_000_000)
    batch_size: int = Field(default=32, ge=1, le=4096)
    epochs: int = Field(default=1, ge=1, le=100)
    learning_rate: float = Field(default=1e-4, gt=0, lt=1)
    warmup_fraction: float = Field(default=0.05, ge=0, le=0.5)
    eval_every: int = Field(default=50, ge=1)


async def plan_training(ctx: JobContext) -> dict[str, Any]:
    params: PlanParams = ctx.params
    steps_per_epoch = math.ceil(params.num_examples / params.batch_size)
    total = steps_per_epoch * params.epochs
    schedule = []
    for epoch in range(params.epochs):
        schedule.append({"epoch": epoch + 1, "first_step": epoch * steps_per_epoch + 1})
        await ctx.progress(epoch + 1, params.epochs)
        await asyncio.sleep(0)
    return {
        "method": params.method,
        "base_model": params.base_model,
        "steps_per_epoch": steps_per_epoch,
        "total_steps": total,
        "warmup_steps": math.floor(total * params.warmup_fraction),
        "eval_steps": list(range(params.eval_every, total + 1, params.eval_every)),
        "schedule": schedule,
    }
