"""Benchmark items in the database: insert once, read back for resume, metrics and paging."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.db import insert_new_rows

from eval_service.models import BenchmarkItem

#: column -> attribute (the rows' key) where they differ
_KEYS = {"metadata": "meta"}
_KEY = ("run_id", "task", "item_id")


class ItemStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def completed(self, run_id: str) -> set[tuple[str, str]]:
        async with self.sessions() as session:
            rows = await session.exec(
                select(BenchmarkItem.task, BenchmarkItem.item_id).where(
                    BenchmarkItem.run_id == run_id
                )
            )
            return {(task, item_id) for task, item_id in rows}

    async def insert_many(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert items; an item already stored for the run is left as it is (never twice)."""
        if not rows:
            return 0
        table = BenchmarkItem.__table__  # type: ignore[attr-defined]
        async with self.sessions() as session:
            connection = await session.connection()
            inserted = await insert_new_rows(connection, table, rows, _KEY, keys=_KEYS)
            await session.commit()
            return inserted

    async def all(self, run_id: str) -> list[BenchmarkItem]:
        async with self.sessions() as session:
            rows = await session.exec(
                select(BenchmarkItem)
                .where(BenchmarkItem.run_id == run_id)
                .order_by(col(BenchmarkItem.task), col(BenchmarkItem.item_id))
            )
            return list(rows)

    async def page(
        self,
        run_id: str,
        *,
        task: str | None = None,
        verdict: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[int, list[BenchmarkItem]]:
        conditions = [BenchmarkItem.run_id == run_id]
        if task:
            conditions.append(BenchmarkItem.task == task)
        if verdict:
            conditions.append(BenchmarkItem.verdict == verdict)
        if status:
            conditions.append(BenchmarkItem.status == status)
        async with self.sessions() as session:
            total = (
                await session.exec(
                    select(func.count()).select_from(BenchmarkItem).where(*conditions)
                )
            ).one()
            rows = await session.exec(
                select(BenchmarkItem)
                .where(*conditions)
                .order_by(col(BenchmarkItem.task), col(BenchmarkItem.item_id))
                .offset(offset)
                .limit(limit)
            )
            return int(total), list(rows)
