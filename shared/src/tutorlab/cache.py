"""Response cache: a model reply stored under a hash of everything that determines it.

The key covers the endpoint (kind, base URL), model, messages, sampling params (seed included)
and an ``epoch`` (bump it to sample the same prompt again). A service that uses the cache owns a
``response_cache`` table in its own database (add :data:`TABLE` to its migrations).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Column, DateTime
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from tutorlab.clients import ChatResult
from tutorlab.contracts.chat import Usage
from tutorlab.contracts.endpoints import ModelEndpoint, ModelParams
from tutorlab.db import insert_new_rows
from tutorlab.db_text import ModelText
from tutorlab.jobs.models import utcnow


class ResponseCacheEntry(SQLModel, table=True):
    __tablename__ = "response_cache"

    key: str = Field(primary_key=True, max_length=64)
    # what the model sent back (model, text, reasoning, finish reason), NULs included
    model: str = Field(sa_type=ModelText(512))
    text: str = Field(sa_type=ModelText)
    reasoning: str | None = Field(default=None, sa_type=ModelText)
    finish_reason: str | None = Field(default=None, sa_type=ModelText(32))
    usage: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    latency_ms: float = 0.0
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


TABLE = ResponseCacheEntry.__tablename__
_COLUMNS = ResponseCacheEntry.__table__.c  # type: ignore[attr-defined]


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


class CacheKeys:
    """Cache keys for one endpoint and epoch. The JSON of each distinct params object is made
    once (a benchmark sends thousands of requests with the same params)."""

    def __init__(self, endpoint: ModelEndpoint, epoch: int = 0) -> None:
        self.endpoint = endpoint
        self.epoch = epoch
        self._head = ",".join(
            _json(v) for v in (endpoint.kind.value, endpoint.base_url, endpoint.model)
        )
        self._params: dict[int, tuple[ModelParams | None, str]] = {}

    def _params_json(self, params: ModelParams | None) -> str:
        known = self._params.get(id(params))
        if known is not None and known[0] is params:
            return known[1]
        effective = (
            self.endpoint.params.merged(params) if params is not None else self.endpoint.params
        )
        text = _json(effective.model_dump(exclude_none=True))
        self._params[id(params)] = (params, text)
        return text

    def __call__(self, messages: Sequence[Mapping[str, Any]], params: ModelParams | None) -> str:
        body = _json([[m["role"], m["content"]] for m in messages])
        payload = f"[{self._head},{body},{self._params_json(params)},{_json(self.epoch)}]"
        return hashlib.sha256(payload.encode()).hexdigest()


def cache_key(
    endpoint: ModelEndpoint,
    messages: Sequence[Mapping[str, Any]],
    params: ModelParams | None,
    epoch: int = 0,
) -> str:
    """sha256 of [kind, base_url, model, messages, effective params, epoch] as compact JSON
    with sorted keys (UTF-8, not ASCII-escaped)."""
    return CacheKeys(endpoint, epoch)(messages, params)


_FIELDS = ("key", "text", "reasoning", "finish_reason", "usage", "latency_ms", "model")


async def _lookup(connection: AsyncConnection, keys: Sequence[str]) -> Sequence[Sequence[Any]]:
    """Stored rows for ``keys`` as plain tuples in :data:`_FIELDS` order.

    On SQLite a plain ``IN (?, ?, …)`` through the driver, the JSON column decoded by its
    type's own result processor: SQLAlchemy's expanding-IN rendering and per-row processing
    took ~2.5x as long for a benchmark's 1,319 keys. Elsewhere a Core select.
    """
    dialect = connection.dialect
    if dialect.name != "sqlite":
        statement = sa_select(*(_COLUMNS[name] for name in _FIELDS)).where(_COLUMNS.key.in_(keys))
        return list(await connection.execute(statement))
    sql = f"SELECT {', '.join(_FIELDS)} FROM {TABLE} WHERE key IN ({', '.join('?' * len(keys))})"
    decode = _COLUMNS.usage.type.dialect_impl(dialect).result_processor(dialect, None)
    rows: Sequence[Any] = (await connection.exec_driver_sql(sql, tuple(keys))).fetchall()
    return [(k, t, r, f, decode(u) if decode else u, lat, m) for k, t, r, f, u, lat, m in rows]


class ResponseCache:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], chunk: int = 2000) -> None:
        self.sessions = sessions
        self.chunk = chunk

    async def get_many(self, keys: Iterable[str]) -> dict[str, ChatResult]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, ChatResult] = {}
        async with self.sessions() as session:
            connection = await session.connection()
            for start in range(0, len(wanted), self.chunk):
                for key, text, reasoning, finish_reason, usage, latency_ms, model in await _lookup(
                    connection, wanted[start : start + self.chunk]
                ):
                    found[key] = ChatResult(
                        text=text,
                        reasoning=reasoning,
                        finish_reason=finish_reason,
                        usage=Usage.model_construct(**usage),
                        latency_ms=latency_ms,
                        attempts=0,
                        model=model,
                    )
        return found

    async def put_many(self, entries: Mapping[str, ChatResult]) -> None:
        """Store replies; a key already stored (also by a concurrent writer) is left as it is."""
        if not entries:
            return
        now = utcnow()
        values = [
            {
                "key": key,
                "model": result.model,
                "text": result.text,
                "reasoning": result.reasoning,
                "finish_reason": result.finish_reason,
                "usage": result.usage.model_dump(),
                "latency_ms": result.latency_ms,
                "created_at": now,
            }
            for key, result in entries.items()
        ]
        table = ResponseCacheEntry.__table__  # type: ignore[attr-defined]
        async with self.sessions() as session:
            await insert_new_rows(await session.connection(), table, values, ("key",))
            await session.commit()
