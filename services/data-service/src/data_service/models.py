"""data-service tables: dataset versions, their taggings, built training sets (+ jobs, cache).

Large content lives in files under the data directory; rows index them (relative ``path``,
``sha256``, row counts) and hold the small metadata (cards, summaries).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel
from tutorlab.cache import TABLE as RESPONSE_CACHE_TABLE
from tutorlab.jobs.models import Job, utcnow


class DatasetVersion(SQLModel, table=True):
    """One imported content of a dataset split; ``current`` marks the one served by default."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("name", "split", "sha256", name="uq_dataset_version"),)

    id: str = Field(primary_key=True, max_length=128)
    name: str = Field(index=True, max_length=32)
    split: str = Field(max_length=32)
    source: str = Field(max_length=16)
    source_detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    sha256: str = Field(max_length=64)
    rows: int
    path: str = Field(max_length=1024)
    current: bool = Field(default=False, index=True)
    job_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class DatasetTagging(SQLModel, table=True):
    """Tags for every item of one dataset version (a JSONL file beside the dataset file)."""

    __tablename__ = "dataset_taggings"

    id: str = Field(primary_key=True, max_length=128)
    version_id: str = Field(index=True, max_length=128)
    tagger: str = Field(max_length=16)
    model: str | None = Field(default=None, max_length=256)
    taxonomy_version: str = Field(max_length=32)
    grade_pin: int | None = None
    sha256: str = Field(max_length=64)
    rows: int
    path: str = Field(max_length=1024)
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    job_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class TrainingSet(SQLModel, table=True):
    """A built training set; its card is stored here and as ``card.json`` beside its files."""

    __tablename__ = "training_sets"

    id: str = Field(primary_key=True, max_length=64)
    builder: str = Field(index=True, max_length=32)
    sha256: str = Field(max_length=64)
    train_rows: int
    eval_rows: int
    path: str = Field(max_length=1024)
    prompt_version: str = Field(max_length=64)
    card: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    job_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


TABLES = (
    Job.__tablename__,
    RESPONSE_CACHE_TABLE,
    DatasetVersion.__tablename__,
    DatasetTagging.__tablename__,
    TrainingSet.__tablename__,
)
