"""A model's output holding a NUL character is stored and read back as it was sent, on SQLite
and on PostgreSQL, whose text columns refuse a NUL (decision 0015): one such reply failed a
benchmark run's item insert there, and with it the run. Through the real job: eval-service on
``database_url``, an arq worker on the real Redis, tutor-api and the simulator over ASGI, every
reply given NULs (and one the marker of the stored form) on its way back."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select
from tutorlab.cache import ResponseCacheEntry
from tutorlab.db import create_engine, session_factory
from tutorlab.db_text import CUT, MARK, to_stored
from tutorlab.jobs.models import Job

from tests.integration.eval_support import MODEL, eval_stack, results_of
from tests.support import migrate

pytestmark = pytest.mark.integration


def hostile(content: str) -> str:
    """A reply with a NUL before and inside its text; its answer still readable."""
    return f"\x00{content}\x00 (done\x00)"


class NulReplies(httpx.AsyncBaseTransport):
    """Ollama ``/api/chat`` answers from ``inner``, each reply :func:`hostile`, its thinking a
    text starting with the stored form's marker, its ``done_reason`` holding a NUL."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path != "/api/chat" or response.status_code != 200:
            return response
        body = json.loads(await response.aread())
        body["message"]["content"] = hostile(body["message"]["content"])
        body["message"]["thinking"] = f"{MARK}thought\x00"
        body["done_reason"] = "stop\x00"
        self.sent.append(body["message"]["content"])
        return httpx.Response(200, json=body)


async def test_replies_with_nul_are_scored_and_stored_as_sent(
    redis_url: str, dataset_mirror: Path, tmp_path: Path, database_url: str
) -> None:
    async with eval_stack(redis_url, dataset_mirror, tmp_path, database_url) as stack:
        nul = NulReplies(stack.sim_transport)
        stack.sim_transport = nul
        body = {"model": MODEL, "tasks": ["gsm8k"], "limit": 6, "seed": 3}
        first = await stack.run(body)
        # the same run again: the replies from the response cache, scored again; then
        # reused (the scored rows copied where the cache still holds the reply)
        rescored = await stack.run({**body, "rescore": True})
        reused = await stack.run(body)
        for run in (first, rescored, reused):
            assert run["status"] == "succeeded", run
            results = results_of(run)
            assert results["counts"]["errors"] == 0, results
            # scored as sent: the simulator is always right, and the NULs hide no answer
            assert results["metrics"]["gsm8k"]["accuracy"]["mean"] == 1.0
            items = await stack.items(run["id"])
            assert sorted(i["response"] for i in items) == sorted(nul.sent)
            assert {i["reasoning"] for i in items} == {f"{MARK}thought\x00"}
            assert {i["finish_reason"] for i in items} == {"stop\x00"}
            lines = Path(run["result"]["items_path"]).read_text().splitlines()
            assert sorted(json.loads(line)["response"] for line in lines) == sorted(nul.sent)
        assert len(nul.sent) == 6  # the later runs asked the model nothing
        assert [results_of(run)["counts"]["cached"] for run in (rescored, reused)] == [6, 6]
        assert results_of(reused).get("reused_from") in (first["id"], rescored["id"])


async def test_a_job_error_or_result_with_a_nul_is_stored_as_it_was(database_url: str) -> None:
    """Text columns through the stored form; a JSON column (PostgreSQL's ``json`` takes
    ``\\u0000``) as it is."""
    await migrate("eval-service", database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    errors = ["the endpoint said: bad\x00 reply", f"{MARK}plain", f'{MARK}"\\u0000"', "plain"]
    try:
        async with sessions() as session:
            for n, error in enumerate(errors):
                session.add(Job(id=f"job_{n}", kind="benchmark", error=error, result={"e": error}))
            await session.commit()
        async with sessions() as session:
            stored = (await session.exec(select(Job).order_by(col(Job.id)))).all()
            assert [job.error for job in stored] == errors
            assert [job.result for job in stored] == [{"e": error} for error in errors]
    finally:
        await engine.dispose()


async def test_an_overlong_finish_reason_or_model_name_is_stored_cut(database_url: str) -> None:
    """A finish reason (32) or model name (512) longer than its column, NULs in it or not, is
    stored cut to the column's length, ending in CUT, on both databases: PostgreSQL enforces
    the length and refused the whole insert."""
    await migrate("eval-service", database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    rows = {
        "a": ("m" * 600, "stop" * 20),
        "b": ("model\x00" * 100, "\x00" * 40),
        "c": ("qwen3:8b", "stop\x00"),  # short ones are kept as they are
    }
    try:
        async with sessions() as session:
            for key, (model, reason) in rows.items():
                session.add(
                    ResponseCacheEntry(key=key, model=model, text="hi", finish_reason=reason)
                )
            await session.commit()
        async with sessions() as session:
            stored = {
                e.key: (e.model, e.finish_reason)
                for e in (await session.exec(select(ResponseCacheEntry))).all()
            }
        assert stored["c"] == rows["c"]
        for key in ("a", "b"):
            kept_model, kept_reason = stored[key]
            assert kept_reason is not None
            assert kept_model.endswith(CUT) and kept_reason.endswith(CUT)
            assert rows[key][0].startswith(kept_model[:-1])
            assert rows[key][1].startswith(kept_reason[:-1])
            held = to_stored if database_url.startswith("postgresql") else str
            assert len(held(kept_model)) <= 512 and len(held(kept_reason)) <= 32
        assert stored["a"] == ("m" * 511 + CUT, "stop" * 7 + "sto" + CUT)
    finally:
        await engine.dispose()
