"""Request and response bodies of data-service's own routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from tutorlab.jobs.models import aware

from data_service.models import DatasetTagging, DatasetVersion, TrainingSet

MAX_TAG_BATCH = 2000


class DatasetVersionPublic(BaseModel):
    id: str
    name: str
    split: str
    source: str
    source_detail: dict[str, Any]
    sha256: str
    rows: int
    path: str
    current: bool
    job_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: DatasetVersion) -> DatasetVersionPublic:
        data = row.model_dump()
        data["created_at"] = aware(row.created_at)
        return cls.model_validate(data)


class TaggingPublic(BaseModel):
    id: str
    version_id: str
    tagger: str
    model: str | None
    taxonomy_version: str
    grade_pin: int | None
    sha256: str
    rows: int
    path: str
    summary: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, row: DatasetTagging) -> TaggingPublic:
        data = row.model_dump()
        data["created_at"] = aware(row.created_at)
        return cls.model_validate(data)


class DatasetCard(BaseModel):
    name: str
    split: str
    hub_source: str
    current: DatasetVersionPublic
    counts: dict[str, Any]
    versions: list[DatasetVersionPublic]
    taggings: list[TaggingPublic]


class ItemsPage(BaseModel):
    name: str
    split: str
    version: str
    offset: int
    limit: int
    total: int
    tags_from: str = Field(
        description="the tagging the tags come from, or the on-demand rule tagger"
    )
    items: list[dict[str, Any]]


class TagProblem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, max_length=200)
    problem: str = Field(min_length=1, max_length=20_000)
    solution: str | None = Field(default=None, max_length=50_000)
    grade: int | None = Field(default=None, ge=1, le=12, description="pin the grade")
    dataset: str | None = Field(default=None, max_length=32, description="gsm8k | math | math500")
    metadata: dict[str, Any] | None = Field(
        default=None, description="e.g. MATH's {subject, level}, GSM8K's {calculations}"
    )


class TagRequest(BaseModel):
    """One problem (``problem`` …) or a batch (``items``); ``grade`` pins every grade."""

    model_config = ConfigDict(extra="forbid")

    problem: str | None = Field(default=None, min_length=1, max_length=20_000)
    solution: str | None = Field(default=None, max_length=50_000)
    grade: int | None = Field(default=None, ge=1, le=12)
    dataset: str | None = Field(default=None, max_length=32)
    metadata: dict[str, Any] | None = None
    items: list[TagProblem] | None = Field(default=None, min_length=1, max_length=MAX_TAG_BATCH)

    @model_validator(mode="after")
    def _one_or_batch(self) -> TagRequest:
        if (self.problem is None) == (self.items is None):
            raise ValueError("send either 'problem' (one problem) or 'items' (a batch), not both")
        if self.items is not None and (self.solution or self.metadata or self.dataset):
            raise ValueError("with 'items', put solution/dataset/metadata inside each item")
        return self


class TagOutput(BaseModel):
    id: str | None = None
    topic_tags: list[str]
    grade: int
    grade_source: str
    evidence: dict[str, list[str]]
    scores: dict[str, float]
    tagger_version: str


class TagBatchOutput(BaseModel):
    tagger_version: str
    taxonomy_version: str
    items: list[TagOutput]


class ValidatePathRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=4096, description="a file under the data directory")


class TrainingSetSummary(BaseModel):
    id: str
    builder: str = Field(description="socratic | teacher | upload")
    name: str | None = Field(default=None, description="an uploaded set's name")
    sha256: str
    train_rows: int
    eval_rows: int
    prompt_version: str
    job_id: str | None
    created_at: datetime
    links: dict[str, str]

    @classmethod
    def of(cls, row: TrainingSet) -> TrainingSetSummary:
        return cls(
            id=row.id,
            builder=row.builder,
            name=row.card.get("name"),
            sha256=row.sha256,
            train_rows=row.train_rows,
            eval_rows=row.eval_rows,
            prompt_version=row.prompt_version,
            job_id=row.job_id,
            created_at=aware(row.created_at) or row.created_at,
            links=training_set_links(row.id),
        )


class TrainingSetPublic(TrainingSetSummary):
    card: dict[str, Any]

    @classmethod
    def of(cls, row: TrainingSet) -> TrainingSetPublic:
        return cls(**TrainingSetSummary.of(row).model_dump(), card=row.card)


class TrainingSetCreated(TrainingSetPublic):
    """``POST /training-sets``: the set, and whether this request created it (False: the same
    content was already a set, returned as it was)."""

    created: bool


def training_set_links(set_id: str) -> dict[str, str]:
    base = f"/training-sets/{set_id}"
    return {
        "self": base,
        "train": f"{base}/download?part=train",
        "eval": f"{base}/download?part=eval",
    }
