"""What the trainer-service's routes answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from tutorlab.jobs.models import JobPublic


class TrainingJobParams(BaseModel):
    """A training job's parameters: the validated config, normalised (defaults filled in)."""

    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any]


class CheckpointPublic(BaseModel):
    name: str
    kind: str
    path: str
    step: int
    final: bool
    expires_at: str | None
    created_at: str


class TrainingPublic(BaseModel):
    """A training run: the job, where it is (step/total, phase), its latest metrics, the cost so
    far and its checkpoints."""

    id: str
    name: str
    method: str
    backend: str
    base_model: str
    job: JobPublic
    step: int
    total_steps: int | None
    phase: str | None = None
    latest_metrics: dict[str, Any] = Field(default_factory=dict)
    cost_usd: float = 0.0
    max_cost_usd: float | None = None
    stopped_reason: str | None = None
    checkpoints: list[CheckpointPublic] = Field(default_factory=list)
    sampler_path: str | None = None
    registered_model: str | None = None
    benchmark_id: str | None = None
    experiment: str | None = None
    links: dict[str, str] = Field(default_factory=dict)
