"""An in-process data-service on a migrated SQLite file and an in-memory queue (no worker)."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from data_service.app import create_app
from data_service.config import DataServiceSettings
from data_service.dataset_sources import LoadedSplit
from data_service.dataset_store import DatasetStore
from tutorlab.datasets.records import DatasetRecord
from tutorlab.db import create_engine, session_factory
from tutorlab.jobs.queue import InMemoryJobQueue
from tutorlab.migrations import upgrade
from tutorlab.service.runner import version_table

from tests.support import app_client, migrations_dir


def migrated_template(directory: Path) -> Path:
    path = directory / "template.db"
    upgrade(
        migrations_dir("data-service"), f"sqlite+aiosqlite:///{path}", version_table("data-service")
    )
    return path


@asynccontextmanager
async def data_api(
    template: Path, tmp_path: Path, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, InMemoryJobQueue, DataServiceSettings]]:
    db = tmp_path / "data-service.db"
    shutil.copy(template, db)
    config = DataServiceSettings(
        database_url=f"sqlite+aiosqlite:///{db}", data_dir=tmp_path / "data", **settings
    )
    queue = InMemoryJobQueue()
    async with app_client(create_app(config, queue=queue)) as client:
        yield client, queue, config


GOOD = {
    "prompt": "Student: What is 3 + 4?\nMode: hint",
    "response": "What do you get if you count on 4 from 3?",
    "grade": 1,
    "topic_tags": ["arithmetic.addition_subtraction"],
}


def planted_jsonl() -> tuple[bytes, dict[int, str]]:
    """A training file with one problem on each listed line (1-based) and its expected code."""
    lines = [
        json.dumps(GOOD),  # 1 ok
        '{"prompt": "Student: hi\\nMode: hint", "response": ',  # 2 bad JSON
        json.dumps({**GOOD, "response": "  "}),  # 3 empty response
        json.dumps({k: v for k, v in GOOD.items() if k != "grade"}),  # 4 missing grade
        json.dumps({**GOOD, "prompt": "Student: x\nMode: lecture"}),  # 5 unknown mode
        json.dumps({**GOOD, "grade": "third"}),  # 6 mistyped grade ("3" is valid)
        json.dumps(GOOD),  # 7 duplicate of line 1
        json.dumps({**GOOD, "response": "word " * 5000}),  # 8 too long
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "What is 2 + 2?"},
                    {"role": "assistant", "content": "What is 2 + 1, and then one more?"},
                ],
                "grade": 1,
                "topic_tags": ["arithmetic.addition_subtraction"],
            }
        ),  # 9 ok (messages form)
    ]
    expected = {
        2: "invalid_json",
        3: "empty_response",
        4: "missing_field",
        5: "unknown_mode",
        6: "wrong_type",
        7: "duplicate",
        8: "too_long",
    }
    return ("\n".join(lines) + "\n").encode(), expected


async def seed_test_sets(
    settings: DataServiceSettings, gsm8k: list[str], math: list[str] | None = None
) -> None:
    """Store small GSM8K test and MATH test versions through the dataset store (no worker), so
    the contamination check has its references."""
    engine = create_engine(settings.resolved_database_url)
    try:
        store = DatasetStore(session_factory(engine), settings.data_dir)
        for name, questions in (("gsm8k", gsm8k), ("math", math or [])):
            records = [
                DatasetRecord(
                    id=f"{name}-test-{i:05d}",
                    dataset=name,
                    split="test",
                    question=question,
                    answer="1",
                    solution="1",
                )
                for i, question in enumerate(questions)
            ]
            await store.save(LoadedSplit(name, "test", "mirror", records))
    finally:
        await engine.dispose()
