"""``POST /score`` scores off the event loop: eval-service served over real HTTP keeps answering
``/healthz`` while a slow reply is scored, and a 1 MB degenerate reply is scored by every task
scorer within a generous bound (the time is a bench's business: bench/scoring_degenerate.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eval_service.app import create_app
from eval_service.config import EvalServiceSettings
from tutorlab.jobs.queue import InMemoryJobQueue
from tutorlab.migrations import upgrade
from tutorlab.scoring.tasks import TASK_SCORERS
from tutorlab.service.runner import version_table

from tests.scoring_faults import SLOW, slow_scorer
from tests.support import migrations_dir, serve_in_thread

__all__ = ["slow_scorer"]  # a fixture, used by name

#: a degenerate megabyte: every pattern that once made a rule scorer slow, over and over
UNITS = ("\\boxed{", "{", "}", "#### ", "The answer is ", "\\[", "\\(", "$$", "1+2=3 ", "7" * 50)
MEGABYTE = "".join(unit * 40 for unit in UNITS * 400)[:1_000_000]


@pytest.fixture
def eval_service(tmp_path: Path, dataset_mirror: Path) -> Iterator[str]:
    """eval-service over real HTTP (uvicorn in a thread, its own event loop); its base URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'eval.db'}"
    upgrade(migrations_dir("eval-service"), url, version_table("eval-service"))
    settings = EvalServiceSettings(database_url=url, dataset_mirror=dataset_mirror)
    with serve_in_thread(create_app(settings, queue=InMemoryJobQueue()), "eval-service") as base:
        yield base


async def test_healthz_answers_while_score_is_busy(eval_service: str, slow_scorer: None) -> None:
    async with httpx.AsyncClient(base_url=eval_service, timeout=60) as client:
        body = {"task": "gsm8k", "items": [{"response": f"{SLOW}. \\boxed{{7}}", "gold": "7"}]}
        scoring = asyncio.create_task(client.post("/score", json=body))
        await asyncio.sleep(0.5)  # the request is in, its scoring under way
        start = time.monotonic()
        health = await client.get("/healthz")
        waited = time.monotonic() - start
        assert health.status_code == 200
        # generous: it answers in milliseconds; on the event loop it waited out the scoring
        assert waited < 1.5, f"/healthz waited {waited:.2f}s while /score was scoring"
        assert not scoring.done(), "the slow scoring ended before /healthz answered"
        scored = await scoring
        assert scored.status_code == 200, scored.text
        assert scored.json()["results"][0]["verdict"] == "correct"


async def test_a_megabyte_reply_is_scored_by_every_task_scorer(eval_service: str) -> None:
    async with httpx.AsyncClient(base_url=eval_service, timeout=120) as client:
        for task in TASK_SCORERS:
            item = {"response": MEGABYTE, "gold": "18", "question": "How many eggs?"}
            response = await client.post("/score", json={"task": task, "items": [item]})
            assert response.status_code == 200, (task, response.text[:500])
            [result] = response.json()["results"]
            assert result["verdict"] not in ("scoring_failed", "correct", "revealed"), task
