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
from tutorlab.db import create_engine, session_factory
from tutorlab.db_text import MARK
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
