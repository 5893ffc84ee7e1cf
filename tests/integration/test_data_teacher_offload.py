"""The teacher build scores its MATH replies on the scoring thread (decision 0018), so the job's
heartbeats go on while a slow reply is scored: the data-service's build job on a real arq worker,
Redis and SQLite, the teacher the simulator behind tutor-api, one of its replies replaced by one
the math rules take seconds of CPU over."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from data_service.app import create_app
from tutor_api.app import create_app as create_tutor_app
from tutor_api.config import TutorApiSettings
from tutorlab.jobs.store import JobStore
from tutorlab.scoring import verdicts
from tutorlab.scoring.verdicts import MathVerdict
from tutorlab_sim import SimConfig
from tutorlab_sim import create_app as create_sim_app

from tests.integration.data_support import data_settings, link_mirror, run_job, shared_hf_cache
from tests.scoring_faults import SLOW, ReplacingReplies, slow_scorer
from tests.support import app_client, migrate

pytestmark = pytest.mark.integration

__all__ = ["slow_scorer"]  # a fixture, used by name

MATH_TRAIN_LINES = 6


@pytest.fixture
def math_mirror(dataset_mirror: Path, tmp_path: Path) -> Path:
    """MATH train cut to its first problems; the other files linked."""
    root = link_mirror(dataset_mirror, tmp_path / "mirror", skip=("math/train.jsonl",))
    train = (dataset_mirror / "math/train.jsonl").read_text().splitlines()[:MATH_TRAIN_LINES]
    (root / "math/train.jsonl").write_text("\n".join(train) + "\n")
    return root


@pytest.fixture
def slow_windows(slow_scorer: None, monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, float]]:
    """When each slow reply's scoring started and ended (``slow_scorer`` makes it slow)."""
    windows: list[tuple[float, float]] = []
    slow = verdicts.score_math_response

    def score(gold: str, response: str, **options: Any) -> MathVerdict:
        start = time.monotonic()
        try:
            return slow(gold, response, **options)
        finally:
            if SLOW in response:
                windows.append((start, time.monotonic()))

    monkeypatch.setattr(verdicts, "score_math_response", score)
    return windows


async def test_the_build_keeps_its_heartbeat_while_a_slow_math_reply_is_scored(
    redis_url: str,
    math_mirror: Path,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    slow_windows: list[tuple[float, float]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    beats: list[float] = []
    real = JobStore.heartbeat

    async def heartbeat(self: JobStore, job_id: str, worker_id: str) -> bool:
        beats.append(time.monotonic())
        return await real(self, job_id, worker_id)

    monkeypatch.setattr(JobStore, "heartbeat", heartbeat)
    data_db = f"sqlite+aiosqlite:///{tmp_path / 'data.db'}"
    tutor_db = f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"
    await migrate("data-service", data_db)
    await migrate("tutor-api", tutor_db)
    settings = data_settings(
        data_db,
        redis_url,
        math_mirror,
        tmp_path / "d",
        shared_hf_cache(tmp_path_factory),
        job_heartbeat_s=0.2,
        job_stale_after_s=1.0,
    )
    sim = httpx.ASGITransport(app=create_sim_app(SimConfig(dataset_mirror=math_mirror)))
    tutor_app = create_tutor_app(TutorApiSettings(database_url=tutor_db))
    worker: dict[str, Any] = {
        "registry_transport": httpx.ASGITransport(app=tutor_app),
        "model_transport": ReplacingReplies(sim, [f"{SLOW}. So $\\boxed{{\\frac{{1}}{{2}}}}$."]),
    }
    async with app_client(tutor_app) as tutor, app_client(create_app(settings)) as client:
        registered = await tutor.post(
            "/models",
            json={
                "name": "teacher",
                "kind": "ollama",
                "base_url": "http://sim.test",
                "model": "qwen3:8b",
            },
        )
        assert registered.status_code == 201, registered.text
        body = {"name": "math", "source": "mirror", "splits": ["train"]}
        await run_job(client, settings, "/datasets/download", body)
        build = {
            "teacher": "teacher",
            "dataset": "math",
            "modes": ["solve"],
            "seed": 1,
            "require_references": False,
        }
        job = await run_job(client, settings, "/training-sets/build/teacher", build, **worker)

    assert job["attempts"] == 1, job
    [(start, end)] = slow_windows  # the slow reply was scored once, in this job
    # the job's heartbeats went on during the scoring (on the event loop there were none)
    assert [b for b in beats if start < b < end], (start, end, beats)
