"""Persistence of a training run's per-step metrics and its checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.jobs.models import aware, utcnow

from trainer_service.models import TrainingCheckpoint, TrainingMetric


class RunStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def record_metrics(self, training_id: str, step: int, metrics: dict[str, Any]) -> None:
        """Store one step's metrics; a step recorded again (a re-run after a crash) replaces
        its row, so there is never a duplicate."""
        async with self.sessions() as session:
            await session.merge(TrainingMetric(training_id=training_id, step=step, metrics=metrics))
            await session.commit()

    async def metrics(
        self, training_id: str, *, after_step: int = -1, limit: int | None = None
    ) -> list[TrainingMetric]:
        async with self.sessions() as session:
            query = (
                select(TrainingMetric)
                .where(TrainingMetric.training_id == training_id, TrainingMetric.step > after_step)
                .order_by(col(TrainingMetric.step))
            )
            if limit is not None:
                query = query.limit(limit)
            return list((await session.exec(query)).all())

    async def latest_metrics(self, training_id: str) -> TrainingMetric | None:
        async with self.sessions() as session:
            query = (
                select(TrainingMetric)
                .where(TrainingMetric.training_id == training_id)
                .order_by(col(TrainingMetric.step).desc())
                .limit(1)
            )
            return (await session.exec(query)).first()

    async def drop_metrics_after(self, training_id: str, step: int) -> int:
        """A resumed run redoes the steps after its checkpoint: their rows go first."""
        async with self.sessions() as session:
            result = await session.exec(
                delete(TrainingMetric).where(
                    col(TrainingMetric.training_id) == training_id, col(TrainingMetric.step) > step
                )
            )
            await session.commit()
            return int(result.rowcount or 0)

    async def record_checkpoint(
        self,
        training_id: str,
        *,
        name: str,
        kind: str,
        path: str,
        step: int,
        totals: dict[str, Any],
        ttl_s: int | None,
        final: bool = False,
    ) -> TrainingCheckpoint:
        expires = utcnow() + timedelta(seconds=ttl_s) if ttl_s else None
        row = TrainingCheckpoint(
            training_id=training_id,
            name=name,
            kind=kind,
            path=path,
            step=step,
            final=final,
            expires_at=expires,
            totals=totals,
        )
        async with self.sessions() as session:
            row = await session.merge(row)
            await session.commit()
        return row

    async def checkpoints(self, training_id: str) -> list[TrainingCheckpoint]:
        async with self.sessions() as session:
            query = (
                select(TrainingCheckpoint)
                .where(TrainingCheckpoint.training_id == training_id)
                .order_by(col(TrainingCheckpoint.step), col(TrainingCheckpoint.created_at))
            )
            return list((await session.exec(query)).all())

    async def resume_point(
        self, training_id: str, now: datetime | None = None
    ) -> TrainingCheckpoint | None:
        """The newest unexpired ``state`` checkpoint: where a taken-over run continues."""
        now = now or utcnow()
        rows = [
            c
            for c in await self.checkpoints(training_id)
            if c.kind == "state" and (c.expires_at is None or aware(c.expires_at) > now)  # type: ignore[operator]
        ]
        return max(rows, key=lambda c: (c.step, aware(c.created_at)), default=None)


def checkpoint_public(row: TrainingCheckpoint) -> dict[str, Any]:
    return {
        "name": row.name,
        "kind": row.kind,
        "path": row.path,
        "step": row.step,
        "final": row.final,
        "expires_at": aware(row.expires_at).isoformat() if row.expires_at else None,  # type: ignore[union-attr]
        "created_at": aware(row.created_at).isoformat(),  # type: ignore[union-attr]
    }


def metrics_public(rows: Sequence[TrainingMetric]) -> list[dict[str, Any]]:
    return [{"step": r.step, **r.metrics} for r in rows]
