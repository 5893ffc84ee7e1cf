"""tutor-api tables: the model registry. tutor-api runs no jobs, so it has no jobs table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel
from tutorlab.contracts.endpoints import ModelEndpoint
from tutorlab.jobs.models import aware, utcnow


class ModelEndpointRow(SQLModel, table=True):
    __tablename__ = "model_endpoints"

    name: str = Field(primary_key=True, max_length=128)
    kind: str = Field(max_length=16)
    base_url: str = Field(max_length=2048)
    model: str = Field(max_length=512)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    max_concurrency: int = 8
    api_key_env: str | None = Field(default=None, max_length=128)
    meta: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSON, nullable=False)
    )
    active: bool = Field(default=False, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))

    def to_endpoint(self) -> ModelEndpoint:
        return ModelEndpoint(
            name=self.name,
            kind=self.kind,
            base_url=self.base_url,
            model=self.model,
            params=self.params,
            max_concurrency=self.max_concurrency,
            api_key_env=self.api_key_env,
            metadata=self.meta,
            active=self.active,
        )

    def fingerprint(self) -> str:
        return f"{self.name}@{aware(self.updated_at)}"


TABLES = (ModelEndpointRow.__tablename__,)
