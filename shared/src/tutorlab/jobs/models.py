"""The job table (each service has its own, in its own database) and its public shape."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel

from tutorlab.db_text import ModelText


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


TERMINAL_STATUSES = frozenset({JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled})


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class Job(SQLModel, table=True):
    __tablename__ = "jobs"

    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(index=True, max_length=64)
    status: str = Field(default=JobStatus.queued.value, index=True, max_length=16)
    progress_done: int = 0
    progress_total: int | None = None
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    #: may quote a model's output (a reply, an endpoint's answer)
    error: str | None = Field(default=None, sa_type=ModelText)
    idempotency_key: str | None = Field(default=None, index=True, unique=True, max_length=200)
    request_hash: str | None = Field(default=None, max_length=64)
    cancel_requested: bool = False
    attempts: int = 0
    worker_id: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    started_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    heartbeat_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class JobProgress(BaseModel):
    done: int
    total: int | None


class JobPublic(BaseModel):
    """What ``GET /jobs/{id}`` answers, in every service."""

    id: str
    kind: str
    status: JobStatus
    progress: JobProgress
    params: dict[str, Any]
    result: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    cancel_requested: bool = False
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime
    links: dict[str, str] = PydanticField(default_factory=dict)

    @classmethod
    def from_job(cls, job: Job, links: dict[str, str] | None = None) -> JobPublic:
        return cls(
            id=job.id,
            kind=job.kind,
            status=JobStatus(job.status),
            progress=JobProgress(done=job.progress_done, total=job.progress_total),
            params=job.params,
            result=job.result,
            error=job.error,
            attempts=job.attempts,
            cancel_requested=job.cancel_requested,
            created_at=aware(job.created_at) or utcnow(),
            started_at=aware(job.started_at),
            finished_at=aware(job.finished_at),
            updated_at=aware(job.updated_at) or utcnow(),
            links=links or {},
        )
