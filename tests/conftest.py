"""Fixtures shared by every test tier."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The team's offline dataset mirror, beside the checkout (tests and CI only; never the product).
DEFAULT_MIRROR = REPO_ROOT.parent / "shared" / "datasets"
DEFAULT_TOKENIZER = REPO_ROOT.parent / "shared" / "tokenizers" / "qwen3"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# The CLI's rich consoles are made at import: with COLUMNS set then, their width is fixed for good
# and a test's ``CliRunner.invoke(env={"COLUMNS": ...})`` is ignored. pytest-xdist's workers
# start with COLUMNS=80 LINES=24 (GNU readline, loaded by pytest, exports them into the process's
# environment, which a child inherits), so the tests drop them: each CLI test sets the width it
# needs, else rich's 80.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)


@pytest.fixture(scope="session")
def dataset_mirror() -> Path:
    path = Path(os.environ.get("TUTORLAB_DATASET_MIRROR", DEFAULT_MIRROR))
    if not (path / "gsm8k" / "test.jsonl").exists():
        pytest.fail(f"dataset mirror not found at {path}: set TUTORLAB_DATASET_MIRROR")
    return path


@pytest.fixture(scope="session")
def qwen3_tokenizer_dir() -> Path:
    return DEFAULT_TOKENIZER


@pytest.fixture
def redis_url() -> str:
    from tests.support import REDIS_URL

    return REDIS_URL


async def _postgres_admin(sql: str) -> bool:
    import asyncpg

    from tests.support import POSTGRES_ADMIN_URL

    try:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
    return True


async def create_postgres_database() -> str | None:
    """Create a throwaway PostgreSQL database; None when no server answers."""
    import asyncpg

    from tests.support import POSTGRES_ADMIN_URL, unique

    try:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    name = unique("tutorlab_test_")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture(
    params=[
        "sqlite",
        # a server, so an integration test wherever it sits: ``pytest tests/unit -m "not
        # integration"`` runs with no database server and no Redis
        pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.integration]),
    ]
)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database: a SQLite file, and a PostgreSQL database when one is reachable."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    url = await create_postgres_database()
    if url is None:
        no_postgres()
    yield url
    await drop_postgres_database(url)


def no_postgres() -> NoReturn:
    """What a test that needs PostgreSQL does without one: fail in CI, skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail("CI must reach PostgreSQL (TUTORLAB_TEST_POSTGRES_URL)")
    pytest.skip("PostgreSQL not reachable")


async def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    await _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def heartbeats(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The monotonic times of every job heartbeat sent in this test (``JobStore.heartbeat``
    still does its work): a test shows the event loop stayed free while something ran."""
    from tutorlab.jobs.store import JobStore

    beats: list[float] = []
    real = JobStore.heartbeat

    async def heartbeat(self: JobStore, job_id: str, worker_id: str) -> bool:
        beats.append(time.monotonic())
        return await real(self, job_id, worker_id)

    monkeypatch.setattr(JobStore, "heartbeat", heartbeat)
    return beats
