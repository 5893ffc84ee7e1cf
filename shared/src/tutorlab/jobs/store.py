"""Job persistence. Every status change is a single conditional UPDATE, so two workers can never
both own a job, and a job re-run after a crash is taken over only once its heartbeat is stale."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, literal, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tutorlab.jobs.models import TERMINAL_STATUSES, Job, JobStatus, utcnow


class IdempotencyConflict(Exception):
    """An Idempotency-Key was reused with a different request."""


def request_fingerprint(kind: str, params: dict[str, Any]) -> str:
    payload = json.dumps({"kind": kind, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def new_job_id(prefix: str) -> str:
    """Random and unique across deployments sharing a Redis (arq job ids are global there).

    A repost with the same Idempotency-Key is found by the key, not by the id.
    """
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


class JobStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], id_prefix: str) -> None:
        self.sessions = sessions
        self.id_prefix = id_prefix

    async def create(
        self, kind: str, params: dict[str, Any], idempotency_key: str | None = None
    ) -> tuple[Job, bool]:
        """Insert a queued job; with a known Idempotency-Key return the existing one instead."""
        fingerprint = request_fingerprint(kind, params)
        if idempotency_key:
            existing = await self.get_by_idempotency_key(idempotency_key)
            if existing is not None:
                return self._same_request(existing, fingerprint), False
        job = Job(
            id=new_job_id(self.id_prefix),
            kind=kind,
            params=params,
            idempotency_key=idempotency_key,
            request_hash=fingerprint,
        )
        try:
            async with self.sessions() as session:
                session.add(job)
                await session.commit()
        except IntegrityError:
            # a concurrent repost with the same key won the race
            if not idempotency_key:
                raise
            existing = await self.get_by_idempotency_key(idempotency_key)
            if existing is None:
                raise
            return self._same_request(existing, fingerprint), False
        return job, True

    @staticmethod
    def _same_request(job: Job, fingerprint: str) -> Job:
        if job.request_hash != fingerprint:
            raise IdempotencyConflict(
                f"Idempotency-Key was already used for job {job.id} with a different request"
            )
        return job

    async def get(self, job_id: str) -> Job | None:
        async with self.sessions() as session:
            return await session.get(Job, job_id)

    async def get_by_idempotency_key(self, key: str) -> Job | None:
        async with self.sessions() as session:
            result = await session.exec(select(Job).where(Job.idempotency_key == key))
            return result.first()

    async def find(
        self,
        *,
        kind: str | Sequence[str] | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Job]:
        query = select(Job)
        if isinstance(kind, str):
            query = query.where(Job.kind == kind)
        elif kind is not None:
            query = query.where(col(Job.kind).in_(list(kind)))
        if status:
            query = query.where(Job.status == status)
        query = query.order_by(col(Job.created_at).desc()).offset(offset).limit(limit)
        async with self.sessions() as session:
            result = await session.exec(query)
            return list(result.all())

    async def _update(self, job_id: str, *conditions: Any, **values: Any) -> bool:
        values.setdefault("updated_at", utcnow())
        # a fresh session holds no Job objects to keep in step: skip the ORM's synchronization
        statement = (
            update(Job)
            .where(col(Job.id) == job_id, *conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        async with self.sessions() as session:
            result = await session.exec(statement)
            await session.commit()
            return bool(result.rowcount)

    async def claim(self, job_id: str, worker_id: str, stale_after_s: float) -> Job | None:
        """Take a queued job, or a running one whose owner stopped its heartbeat; else None."""
        now = utcnow()
        stale = now - timedelta(seconds=stale_after_s)
        started_type = Job.__table__.c.started_at.type  # type: ignore[attr-defined]
        # one statement: the claim and the claimed row (RETURNING; SQLite >= 3.35, PostgreSQL)
        statement = (
            update(Job)
            .where(
                col(Job.id) == job_id,
                col(Job.cancel_requested).is_(False),
                or_(
                    col(Job.status) == JobStatus.queued.value,
                    and_(
                        col(Job.status) == JobStatus.running.value,
                        or_(col(Job.heartbeat_at).is_(None), col(Job.heartbeat_at) < stale),
                    ),
                ),
            )
            .values(
                status=JobStatus.running.value,
                worker_id=worker_id,
                heartbeat_at=now,
                updated_at=now,
                started_at=func.coalesce(col(Job.started_at), literal(now, started_type)),
                attempts=Job.attempts + 1,
            )
            .returning(Job)
            .execution_options(synchronize_session=False)
        )
        async with self.sessions() as session:
            job = (await session.exec(statement)).scalars().first()
            await session.commit()
            return job

    async def heartbeat(self, job_id: str, worker_id: str) -> bool:
        """Refresh the lease; False when the job is no longer this worker's."""
        return await self._update(
            job_id,
            col(Job.worker_id) == worker_id,
            col(Job.status) == JobStatus.running.value,
            heartbeat_at=utcnow(),
        )

    async def set_progress(
        self,
        job_id: str,
        done: int,
        total: int | None = None,
        partial: dict[str, Any] | None = None,
    ) -> None:
        """Progress, plus an optional partial result shown while the job runs."""
        values: dict[str, Any] = {"progress_done": done, "heartbeat_at": utcnow()}
        if total is not None:
            values["progress_total"] = total
        if partial is not None:
            values["result"] = partial
        await self._update(job_id, **values)

    async def finish(
        self,
        job_id: str,
        worker_id: str,
        status: JobStatus,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        progress: tuple[int, int] | None = None,
    ) -> bool:
        """Close a running job this worker owns (with its final progress, if given)."""
        values: dict[str, Any] = {"status": status.value, "finished_at": utcnow(), "error": error}
        if result is not None:
            values["result"] = result
        if progress is not None:
            values["progress_done"], values["progress_total"] = progress
        return await self._update(
            job_id,
            col(Job.worker_id) == worker_id,
            col(Job.status) == JobStatus.running.value,
            **values,
        )

    async def request_cancel(self, job_id: str) -> Job | None:
        """Cancel a queued job at once; ask a running one to stop at its next checkpoint."""
        job = await self.get(job_id)
        if job is None or JobStatus(job.status) in TERMINAL_STATUSES:
            return job
        now = utcnow()
        await self._update(
            job_id,
            col(Job.status) == JobStatus.queued.value,
            status=JobStatus.cancelled.value,
            cancel_requested=True,
            finished_at=now,
        )
        await self._update(
            job_id, col(Job.status) == JobStatus.running.value, cancel_requested=True
        )
        return await self.get(job_id)

    async def is_cancel_requested(self, job_id: str) -> bool:
        job = await self.get(job_id)
        return bool(job and job.cancel_requested)

    async def needing_dispatch(self, stale_after_s: float, queued_after_s: float) -> list[Job]:
        """Running jobs whose worker died, and queued jobs that may never have reached Redis."""
        now = utcnow()
        query = select(Job).where(
            or_(
                and_(
                    col(Job.status) == JobStatus.running.value,
                    col(Job.heartbeat_at) < now - timedelta(seconds=stale_after_s),
                ),
                and_(
                    col(Job.status) == JobStatus.queued.value,
                    col(Job.created_at) < now - timedelta(seconds=queued_after_s),
                ),
            )
        )
        async with self.sessions() as session:
            result = await session.exec(query)
            return list(result.all())
