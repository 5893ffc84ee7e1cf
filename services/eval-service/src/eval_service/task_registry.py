"""Registered custom tasks in the eval-service database (``custom_tasks``)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.jobs.models import utcnow

from eval_service.custom_tasks import TaskDefinition
from eval_service.models import CustomTaskRecord


class TaskConflict(Exception):
    """A task registered again under its version with another definition."""


class TaskRegistry:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def get(self, name: str) -> TaskDefinition | None:
        async with self.sessions() as session:
            row = await session.get(CustomTaskRecord, name)
        return None if row is None else TaskDefinition.model_validate(row.definition)

    async def get_many(self, names: Iterable[str]) -> dict[str, TaskDefinition]:
        wanted = [n for n in names if "\x00" not in n]  # PostgreSQL refuses a NUL
        if not wanted:
            return {}
        async with self.sessions() as session:
            rows = await session.exec(
                select(CustomTaskRecord).where(col(CustomTaskRecord.name).in_(wanted))
            )
            return {r.name: TaskDefinition.model_validate(r.definition) for r in rows}

    async def all(self) -> list[TaskDefinition]:
        async with self.sessions() as session:
            rows = await session.exec(select(CustomTaskRecord).order_by(col(CustomTaskRecord.name)))
            return [TaskDefinition.model_validate(r.definition) for r in rows]

    async def put(self, definition: TaskDefinition, source: str) -> bool:
        """Register ``definition``; True when new or a new version, False when the same
        definition was registered already. The same version with another definition is a
        :class:`TaskConflict` (a run records a task by its version: bump it)."""
        sha256 = definition.sha256()
        async with self.sessions() as session:
            row = await session.get(CustomTaskRecord, definition.name)
            if row is not None and row.sha256 == sha256:
                return False
            if row is not None and row.version == definition.version:
                raise TaskConflict(
                    f"version: task {definition.name!r} version {definition.version!r} is "
                    "registered with another definition; give the changed task a new version"
                )
            if row is None:
                row = CustomTaskRecord(
                    name=definition.name, version="", sha256="", definition={}, source=""
                )
            row.version = definition.version
            row.sha256 = sha256
            row.definition = definition.model_dump(mode="json")
            row.source = source
            row.updated_at = utcnow()
            session.add(row)
            await session.commit()
            return True
