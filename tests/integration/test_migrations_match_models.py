"""Each service's migrations build exactly the tables its models declare (SQLite and
PostgreSQL): a model change without a migration, or a migration the models don't match, fails."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlmodel import SQLModel
from tutorlab.db import create_engine
from tutorlab.migrations import owned_by

from tests.support import migrate

pytestmark = pytest.mark.integration

SERVICES = ["tutor-api", "eval-service", "data-service", "trainer-service"]


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_models(service: str, database_url: str) -> None:
    owned = importlib.import_module(f"{service.replace('-', '_')}.models").TABLES
    await migrate(service, database_url)
    include = owned_by(owned)

    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"include_object": include, "compare_type": True}
        )
        return list(compare_metadata(context, SQLModel.metadata))

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == [], f"{service}: models and migrations differ: {differences}"
