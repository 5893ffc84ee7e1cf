"""Benchmark items in the database: insert once, read back for resume, metrics and paging."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.cache import ResponseCacheEntry
from tutorlab.db import insert_new_rows
from tutorlab.jobs.models import utcnow

from eval_service.models import BenchmarkItem, ReusableRun

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

    async def reusable(self, key: str) -> ReusableRun | None:
        async with self.sessions() as session:
            return await session.get(ReusableRun, key)

    async def remember(self, key: str, run_id: str, paths: dict[str, Path]) -> None:
        """Make ``run_id`` the run that later runs with this reuse key copy from."""
        async with self.sessions() as session:
            await self._remember(session, key, run_id, paths)
            await session.commit()

    @staticmethod
    async def _remember(
        session: AsyncSession, key: str, run_id: str, paths: dict[str, Path]
    ) -> None:
        await session.exec(delete(ReusableRun).where(col(ReusableRun.key) == key))
        session.add(
            ReusableRun(
                key=key,
                run_id=run_id,
                results_path=str(paths["results"]),
                items_path=str(paths["items"]),
            )
        )

    async def copy_reused(
        self,
        run_id: str,
        source: str,
        total: int,
        *,
        remember: tuple[str, dict[str, Path]] | None = None,
    ) -> bool:
        """Copy ``source``'s ``total`` scored items into ``run_id`` as served from the cache,
        each only if its reply is still the cache's entry for its key; all or nothing. With
        ``remember`` (key, paths), ``run_id`` becomes that key's source in the same commit."""
        items = BenchmarkItem.__table__  # type: ignore[attr-defined]
        cache = ResponseCacheEntry.__table__  # type: ignore[attr-defined]
        now: datetime = utcnow()
        own = {
            "run_id": literal(run_id, items.c.run_id.type),
            "attempts": literal(0, items.c.attempts.type),
            "cached": literal(True, items.c.cached.type),
            "created_at": literal(now, items.c.created_at.type),
        }
        names = [c.name for c in items.columns]
        rows = (
            sa_select(*(own.get(name, items.c[name]) for name in names))
            .select_from(
                items.join(
                    cache,
                    and_(cache.c.key == items.c.cache_key, cache.c.text == items.c.response),
                )
            )
            .where(items.c.run_id == source, items.c.status == "ok")
        )
        async with self.sessions() as session:
            try:
                result = await session.exec(insert(items).from_select(names, rows))
            except IntegrityError:  # the run has items already: it is no copy
                await session.rollback()
                return False
            if result.rowcount != total:
                await session.rollback()
                return False
            if remember is not None:
                await self._remember(session, remember[0], run_id, remember[1])
            await session.commit()
            return True

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
