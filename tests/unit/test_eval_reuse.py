"""Reusing an identical earlier run: the key, the marked items file, and the all-or-nothing copy
of scored rows (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import orjson
import pytest
from eval_service.item_store import ItemStore
from eval_service.plan import Plan, TaskPlan
from eval_service.results import item_record
from eval_service.reuse import find_reusable, reuse_key, reused_items_file
from sqlalchemy import delete, update
from tutorlab.cache import ResponseCache, ResponseCacheEntry
from tutorlab.clients import ChatResult
from tutorlab.contracts.chat import Usage
from tutorlab.contracts.endpoints import ModelEndpoint, ModelParams
from tutorlab.db import create_engine, session_factory

from tests.support import migrate


def plan(*ids: str, temperature: float = 0.0) -> Plan:
    spec = SimpleNamespace(scorer="gsm8k", prompt="math_cot")
    items = [SimpleNamespace(id=i) for i in ids]
    return Plan(
        suite=None,
        tasks=[TaskPlan("gsm8k", cast(Any, spec), cast(Any, items))],
        limit=None,
        seed=0,
        params=ModelParams(temperature=temperature, max_tokens=2048),
        prompt_versions={"math_cot": "1"},
        dataset_checksums={"gsm8k/test": "abc"},
    )


TARGET = {"name": "m", "kind": "openai", "base_url": "http://sim/v1", "max_concurrency": 8}


def test_the_key_changes_with_what_decides_replies_and_verdicts_only() -> None:
    ep = ModelEndpoint(
        name="m", kind="openai", base_url="http://sim/v1", model="q", max_concurrency=8
    )

    def key(target: dict[str, Any] = TARGET, endpoint: ModelEndpoint = ep, **kw: Any) -> str:
        return reuse_key(target, endpoint, kw.pop("plan", plan("a", "b")), kw.pop("epoch", 0))

    assert key() == key({**TARGET, "max_concurrency": 256})
    assert key() == key(endpoint=ep.model_copy(update={"max_concurrency": 256}))
    assert key() != key(epoch=1)
    assert key() != key(plan=plan("a", "c"))
    assert key() != key(plan=plan("a", "b", temperature=0.7))
    assert key() != key({**TARGET, "base_url": "http://other/v1"})
    # through tutor-api the model string carries its policy version: a new one, a new key
    assert key() != key(endpoint=ep.model_copy(update={"model": "tutor-api/m/q/policy-2"}))


def row(item_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "run_id": "source",
        "task": "gsm8k",
        "item_id": item_id,
        "status": "ok",
        "request": {"prompt": f"q {item_id}", "gold": "4"},
        "response": f'reply "attempts":1,"cached":false,"error": {item_id}',
        "reasoning": None,
        "finish_reason": "stop",
        "extracted": "4",
        "extraction_rule": "boxed",
        "verdicts": {"metrics": {"accuracy": True}},
        "verdict": "correct",
        "meta": {"dataset": "gsm8k"},
        "latency_ms": 200.0,
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        "attempts": 1,
        "cached": False,
        "cache_key": f"key-{item_id}",
        "error": None,
        **extra,
    }


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(
        orjson.dumps(item_record(cast(Any, SimpleNamespace(**r)))) + b"\n" for r in rows
    )


@pytest.mark.parametrize(
    "attempts", [[1, 1, 1], [0, 0, 0], [2, 1, 3]], ids=["called-once", "reused", "retried"]
)
def test_the_items_file_is_marked_as_served_from_the_cache(
    tmp_path: Path, attempts: list[int]
) -> None:
    rows = [
        row(str(i), attempts=n, cached=n == 0) for i, n in enumerate(attempts)
    ]  # a reply may quote the fields: only each line's own are changed
    source = tmp_path / "items.jsonl"
    source.write_bytes(jsonl(rows))
    marked = reused_items_file(source, total=3)
    assert marked is not None
    lines = [orjson.loads(line) for line in marked.splitlines()]
    assert [(line["attempts"], line["cached"]) for line in lines] == [(0, True)] * 3
    assert [line["response"] for line in lines] == [r["response"] for r in rows]
    expected = [item_record(cast(Any, SimpleNamespace(**r))) for r in rows]
    for line, record in zip(lines, expected, strict=True):
        assert line == {**record, "attempts": 0, "cached": True}
    assert reused_items_file(source, total=4) is None  # not the run it claims to be
    assert reused_items_file(tmp_path / "gone.jsonl", total=3) is None


async def test_rows_are_copied_only_when_every_reply_is_still_cached(
    database_url: str, tmp_path: Path
) -> None:
    await migrate("eval-service", database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    store = ItemStore(sessions)
    rows = [row("a"), row("b"), row("c")]
    try:
        await store.insert_many(rows)
        await ResponseCache(sessions).put_many(
            {
                r["cache_key"]: ChatResult(
                    text=r["response"],
                    reasoning=None,
                    finish_reason="stop",
                    usage=Usage(),
                    latency_ms=200.0,
                    attempts=1,
                    model="m",
                )
                for r in rows
            }
        )
        paths = {"results": tmp_path / "results.json", "items": tmp_path / "items.jsonl"}
        paths["items"].write_bytes(jsonl(rows))  # as a run writes them: items, then results
        paths["results"].write_bytes(
            orjson.dumps({"run_id": "source", "counts": {"items": 3, "errors": 0}})
        )
        await store.remember("k", "source", paths)

        found = await find_reusable(store, "k", total=3)
        assert found is not None and found.source == "source"
        assert found.items_path == paths["items"] and found.results["run_id"] == "source"
        assert await find_reusable(store, "k", total=4) is None
        assert await find_reusable(store, "other", total=3) is None

        # the copy records its run as the source of a key in the same commit
        assert await store.copy_reused("copy", "source", total=3, remember=("k2", paths))
        recorded = await store.reusable("k2")
        assert recorded is not None and recorded.run_id == "copy"
        copied = {r.item_id: r for r in await store.all("copy")}
        originals = {r.item_id: r for r in await store.all("source")}
        assert sorted(copied) == ["a", "b", "c"]
        for item_id, original in originals.items():
            mine = copied[item_id]
            assert (mine.attempts, mine.cached) == (0, True)
            same = ("response", "verdicts", "verdict", "request", "meta", "usage", "latency_ms")
            for field in same:
                assert getattr(mine, field) == getattr(original, field), field
        # into a run that has items already: refused, nothing stored twice
        assert not await store.copy_reused("copy", "source", total=3)
        assert len(await store.all("copy")) == 3

        # one reply no longer the cache's entry: nothing is copied
        entries = ResponseCacheEntry.__table__  # type: ignore[attr-defined]
        async with sessions() as session:
            await session.exec(  # type: ignore[call-overload]
                update(entries).where(entries.c.key == "key-b").values(text="another sample")
            )
            await session.commit()
        assert not await store.copy_reused("second", "source", total=3, remember=("k3", paths))
        assert await store.all("second") == []
        assert await store.reusable("k3") is None  # rolled back with the copy
        # one reply gone from the cache: the same
        async with sessions() as session:
            await session.exec(delete(entries).where(entries.c.key == "key-b"))  # type: ignore[call-overload]
            await session.commit()
        assert not await store.copy_reused("third", "source", total=3)
        assert await store.all("third") == []

        # another run replaced items.jsonl but never wrote its results: not reusable
        os.utime(paths["items"], ns=(2**62, 2**62))
        assert await find_reusable(store, "k", total=3) is None
        os.utime(paths["items"], ns=(0, 0))
        assert await find_reusable(store, "k", total=3) is not None
        # the files now describe another run: not reusable
        paths["results"].write_bytes(
            orjson.dumps({"run_id": "later", "counts": {"items": 3, "errors": 0}})
        )
        assert await find_reusable(store, "k", total=3) is None
    finally:
        await engine.dispose()
