"""Database engine and sessions: SQLite by default, PostgreSQL when the URL says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Table, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def normalize_url(url: str) -> str:
    """Give a bare ``sqlite:``/``postgresql:`` URL its async driver."""
    parsed = make_url(url)
    if "+" not in parsed.drivername and parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine. SQLite gets WAL, a busy timeout and its directory created. JSON columns
    are (de)serialized with orjson: item rows carry prompts, replies and verdicts."""
    url = normalize_url(url)
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def ping(engine: AsyncEngine, timeout_s: float = 3.0) -> None:
    """Raise if the database does not answer ``SELECT 1`` within ``timeout_s``."""

    async def _ping() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    await asyncio.wait_for(_ping(), timeout_s)


async def checkpoint(engine: AsyncEngine) -> None:
    """SQLite: copy the write-ahead log into the database file (``PASSIVE``: never waits for
    readers). SQLite otherwise does it inside whichever commit takes the log past 1,000 pages,
    adding tens of ms to that commit. Elsewhere a no-op."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as conn:
        await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@dataclass(frozen=True)
class _SqliteInsert:
    sql: str
    #: (row key, the column type's bind processor, the column's default) in placeholder order
    columns: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]


_SQLITE_INSERTS: dict[tuple[int, tuple[str, ...]], _SqliteInsert] = {}


def _sqlite_insert_plan(table: Table, conflict: tuple[str, ...], dialect: Dialect) -> _SqliteInsert:
    plan = _SQLITE_INSERTS.get((id(table), conflict))
    if plan is None:
        columns = list(table.columns)
        names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
        keys = ", ".join(dialect.identifier_preparer.quote(name) for name in conflict)
        sql = (
            f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
            f"VALUES ({', '.join('?' for _ in columns)}) ON CONFLICT ({keys}) DO NOTHING"
        )
        plan = _SqliteInsert(
            sql,
            tuple(
                (c.key, c.type.dialect_impl(dialect).bind_processor(dialect), c.default)
                for c in columns
            ),
        )
        _SQLITE_INSERTS[(id(table), conflict)] = plan
    return plan


def _default_value(default: Any) -> Any:
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)
    return default.arg


async def insert_new_rows(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    *,
    keys: Mapping[str, str] | None = None,
) -> int:
    """INSERT ``rows`` (dicts by column key, or by ``keys[column key]`` where given), leaving
    out any whose ``conflict`` columns match a stored row; returns how many were inserted.
    A column missing from a row gets its default (for tables without autoincrement keys).

    On SQLite the statement is built once per table and run with the driver's executemany;
    values are gathered column by column and passed through each column type's own bind
    processor (the JSON and datetime encoding SQLAlchemy itself applies). SQLAlchemy's generic
    per-row parameter handling cost twice the insert itself for 1,000 benchmark item rows.
    Other databases use SQLAlchemy's Core executemany with RETURNING (PostgreSQL batches it
    into multi-row INSERTs).
    """
    if not rows:
        return 0
    keys = keys or {}
    dialect = connection.dialect
    if dialect.name != "sqlite":
        insert = pg_insert if dialect.name == "postgresql" else sqlite_insert
        # RETURNING counts the rows really inserted (an executemany's rowcount is -1 there)
        statement = (
            insert(table)
            .on_conflict_do_nothing(index_elements=list(conflict))
            .returning(table.c[conflict[0]])
        )
        # every row with every column: an executemany takes its columns from the first row
        spec = [(c.key, keys.get(c.key, c.key), _default_value(c.default)) for c in table.columns]
        values = [
            {column: row.get(key, fallback) for column, key, fallback in spec} for row in rows
        ]
        result = await connection.execute(statement, values)
        return len(result.all())
    plan = _sqlite_insert_plan(table, tuple(conflict), dialect)
    columns = []
    for column, process, default in plan.columns:
        key, fallback = keys.get(column, column), _default_value(default)
        values_of_column = [row.get(key, fallback) for row in rows]
        columns.append(
            values_of_column if process is None else list(map(process, values_of_column))
        )
    result = await connection.exec_driver_sql(plan.sql, list(zip(*columns, strict=True)))
    return int(result.rowcount or 0)
