"""trainer-service tables. A training run is a job (kind ``training``, id ``train_…``); its
metrics and checkpoints hang off the job id.

Metric rows are keyed by (training, step), so a step re-run after a crash overwrites its row
rather than adding a second one; a resumed run first drops the rows past its checkpoint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel
from tutorlab.jobs.models import Job, utcnow


class TrainingMetric(SQLModel, table=True):
    __tablename__ = "training_metrics"

    training_id: str = Field(primary_key=True, max_length=64)
    step: int = Field(primary_key=True)
    #: train/… (loss, reward, lr, tokens), eval/… (NLL, accuracy, no-reveal), cost/… (USD)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class TrainingCheckpoint(SQLModel, table=True):
    """One saved checkpoint: ``state`` (weights + optimizer, what a run resumes from) or
    ``sampler`` (weights to sample from and register)."""

    __tablename__ = "training_checkpoints"

    training_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(primary_key=True, max_length=128)
    kind: str = Field(max_length=16)
    path: str = Field(max_length=1024)
    #: optimizer steps done when it was saved; the data cursor resumes from here
    step: int
    final: bool = False
    #: when the backend deletes it (None: kept)
    expires_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    #: token and cost totals at this checkpoint, so a resumed run's totals carry on
    totals: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


TABLES = (Job.__tablename__, TrainingMetric.__tablename__, TrainingCheckpoint.__tablename__)
