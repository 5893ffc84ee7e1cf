"""eval-service tables: one row per benchmark item, comparisons, the response cache, jobs.

A benchmark run is a job (kind ``benchmark``); its items are keyed by (run, task, item), so an
item is stored once however often the job is re-run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel
from tutorlab.cache import TABLE as CACHE_TABLE
from tutorlab.db_text import ModelText
from tutorlab.jobs.models import Job, utcnow

#: the longest item id a run stores (a custom task's longer id is refused at registration)
ITEM_ID_MAX_CHARS = 200


class BenchmarkItem(SQLModel, table=True):
    __tablename__ = "benchmark_items"
    # no secondary indexes: every query names the run, and the primary key (run, task, item)
    # serves it; each index would cost every stored item another B-tree insert

    run_id: str = Field(primary_key=True, max_length=64)
    task: str = Field(primary_key=True, max_length=64)
    item_id: str = Field(primary_key=True, max_length=ITEM_ID_MAX_CHARS)
    #: ok: scored; error: the endpoint failed after retries (excluded from accuracy)
    status: str = Field(max_length=16)
    request: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # the reply as the model sent it and the answer read from it, NULs included
    response: str | None = Field(default=None, sa_type=ModelText)
    reasoning: str | None = Field(default=None, sa_type=ModelText)
    finish_reason: str | None = Field(default=None, sa_type=ModelText(32))
    extracted: str | None = Field(default=None, sa_type=ModelText)
    extraction_rule: str | None = Field(default=None, max_length=32)
    verdicts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: the item's headline verdict for filtering: correct / incorrect / invalid / error …
    verdict: str | None = Field(default=None, max_length=32)
    meta: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSON, nullable=False)
    )
    latency_ms: float | None = None
    usage: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    cached: bool = False
    #: the response-cache key of the request (None with no_cache): which cached reply is this
    cache_key: str | None = Field(default=None, max_length=64)
    #: an endpoint's or a scoring's error, which may quote the reply
    error: str | None = Field(default=None, sa_type=ModelText)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ReusableRun(SQLModel, table=True):
    """The latest run, per reuse key, whose scored items a run with the same key may copy
    (see ``eval_service.reuse``)."""

    __tablename__ = "reusable_runs"

    key: str = Field(primary_key=True, max_length=64)
    run_id: str = Field(max_length=64)
    results_path: str = Field(max_length=2048)
    items_path: str = Field(max_length=2048)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ComparisonRecord(SQLModel, table=True):
    __tablename__ = "comparisons"

    id: str = Field(primary_key=True, max_length=64)
    baseline: str = Field(max_length=1024)
    candidate: str = Field(max_length=1024)
    path: str | None = Field(default=None, max_length=2048)
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class CustomTaskRecord(SQLModel, table=True):
    """A registered custom task (``POST /tasks``): its definition, as validated, and the
    task file it came from."""

    __tablename__ = "custom_tasks"

    name: str = Field(primary_key=True, max_length=64)
    version: str = Field(max_length=64)
    sha256: str = Field(max_length=64)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    #: the uploaded file's text (YAML or JSON), kept as sent
    source: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


TABLES = (
    Job.__tablename__,
    BenchmarkItem.__tablename__,
    ComparisonRecord.__tablename__,
    ReusableRun.__tablename__,
    CustomTaskRecord.__tablename__,
    CACHE_TABLE,
)
