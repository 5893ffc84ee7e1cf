"""Alembic, shared by every service: each service keeps its own revisions and version table.

A service's ``migrations/env.py`` is two lines: import its tables, call :func:`run_env`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config
from sqlmodel import SQLModel

from tutorlab.db import is_sqlite, normalize_url


def alembic_config(script_location: Path, database_url: str, version_table: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", normalize_url(database_url).replace("%", "%%"))
    config.attributes["version_table"] = version_table
    return config


def upgrade(script_location: Path, database_url: str, version_table: str) -> None:
    """Bring the database to the newest revision (run before the server starts)."""
    url = normalize_url(database_url)
    if is_sqlite(url):
        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(script_location, url, version_table), "head")


def owned_by(table_names: Iterable[str]) -> Callable[..., bool]:
    """Alembic's ``include_object`` for a service: its own tables and their indexes only."""
    owned = set(table_names)

    def include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
        if type_ == "table":
            return name in owned
        table = getattr(obj, "table", None)
        return table is None or table.name in owned

    return include_object


def run_env(table_names: Iterable[str]) -> None:
    """Body of every service's ``env.py``: migrate only the tables that service owns."""
    include_object = owned_by(table_names)
    config = context.config
    version_table = config.attributes.get("version_table", "alembic_version")
    url = config.get_main_option("sqlalchemy.url") or ""

    def configure(connection: Connection | None = None) -> None:
        context.configure(
            connection=connection,
            url=None if connection is not None else url,
            target_metadata=SQLModel.metadata,
            include_object=include_object,
            version_table=version_table,
            render_as_batch=is_sqlite(url),
            compare_type=True,
        )

    if context.is_offline_mode():
        configure()
        with context.begin_transaction():
            context.run_migrations()
        return

    def do_run(connection: Connection) -> None:
        configure(connection)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = async_engine_from_config(
            {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
        )
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    connection = config.attributes.get("connection")
    if connection is not None:
        do_run(connection)
    else:
        asyncio.run(run_async())
