"""Fixtures of the unit tests that run every service in process (tests/unit/services_support.py)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tutorlab.migrations import upgrade
from tutorlab.service.runner import version_table

from tests.support import app_client, migrations_dir
from tests.unit.services_support import KEY, SERVICES, service_app


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One migrated SQLite database per service, copied for each test."""
    root = tmp_path_factory.mktemp("migrated")
    paths = {}
    for name in SERVICES:
        path = root / f"{name}.db"
        upgrade(migrations_dir(name), f"sqlite+aiosqlite:///{path}", version_table(name))
        paths[name] = path
    return paths


@pytest.fixture
def service_client(templates: dict[str, Path], tmp_path: Path) -> Callable[..., Any]:
    """``async with service_client(name, api_key=..., **settings) as (app, client)``."""

    @asynccontextmanager
    async def make(
        name: str, api_key: str | None = KEY, **overrides: Any
    ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        db = tmp_path / f"{name}.db"
        shutil.copy(templates[name], db)
        app = service_app(name, f"sqlite+aiosqlite:///{db}", tmp_path, api_key, **overrides)
        async with app_client(app) as client:
            yield app, client

    return make
