"""insert_new_rows: the driver-level bulk insert stores what the ORM reads back, on SQLite and
PostgreSQL, and never stores a row twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from eval_service.item_store import ItemStore
from eval_service.models import BenchmarkItem
from tutorlab.db import create_engine, session_factory

from tests.support import migrate

pytestmark = pytest.mark.integration


def item(item_id: str, **extra: object) -> dict[str, object]:
    return {
        "run_id": "run-1",
        "task": "gsm8k",
        "item_id": item_id,
        "status": "ok",
        "request": {"prompt": "Héllo – 2+2?", "gold": "4", "nested": [1, {"a": None}]},
        "response": "The answer is 4.",
        "verdicts": {"metrics": {"accuracy": True}, "rule": "answer_is"},
        "verdict": "correct",
        "meta": {"topics": ["arithmetic"]},
        "latency_ms": 12.5,
        "usage": {"prompt_tokens": 10, "completion_tokens": None},
        "cached": True,
        **extra,
    }


async def test_rows_read_back_as_inserted_with_defaults_and_no_duplicates(
    database_url: str,
) -> None:
    await migrate("eval-service", database_url)
    engine = create_engine(database_url)
    store = ItemStore(session_factory(engine))
    try:
        before = datetime.now(UTC)
        assert await store.insert_many([item("a"), item("b", error="boom", status="error")]) == 2
        # a row already stored is left as it is; only the new one counts
        assert await store.insert_many([item("a", response="changed"), item("c")]) == 1

        rows = {row.item_id: row for row in await store.all("run-1")}
        assert sorted(rows) == ["a", "b", "c"]
        a = rows["a"]
        assert isinstance(a, BenchmarkItem)
        assert a.response == "The answer is 4."
        assert a.request == {"prompt": "Héllo – 2+2?", "gold": "4", "nested": [1, {"a": None}]}
        assert a.verdicts == {"metrics": {"accuracy": True}, "rule": "answer_is"}
        assert a.meta == {"topics": ["arithmetic"]}
        assert a.usage == {"prompt_tokens": 10, "completion_tokens": None}
        assert a.latency_ms == 12.5 and a.cached is True and a.attempts == 0
        assert a.reasoning is None and a.error is None
        created = a.created_at if a.created_at.tzinfo else a.created_at.replace(tzinfo=UTC)
        assert abs((created - before).total_seconds()) < 60
        assert rows["b"].error == "boom" and rows["b"].status == "error"
        total, page = await store.page("run-1", verdict="correct", limit=2)
        assert total == 3 and [r.item_id for r in page] == ["a", "b"]
    finally:
        await engine.dispose()
