"""The teacher build scores its MATH replies on the scoring thread (decision 0018), so the job's
heartbeats go on while a slow reply is scored, and a reply whose scoring raises is that reply's
error, not the build's failure: the data-service's build job on a real arq worker, Redis and
SQLite (and PostgreSQL), the teacher the simulator behind tutor-api, some of its replies
replaced by one the math rules take seconds of CPU over, one the rules raise on, or one holding
NUL characters."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from data_service.app import create_app
from data_service.builders import teacher
from data_service.config import DataServiceSettings
from tutor_api.app import create_app as create_tutor_app
from tutor_api.config import TutorApiSettings
from tutorlab.scoring import guidance as real_guidance
from tutorlab.scoring import verdicts
from tutorlab.scoring.verdicts import MathVerdict
from tutorlab_sim import SimConfig
from tutorlab_sim import create_app as create_sim_app

from tests.integration.data_support import data_settings, link_mirror, run_job, shared_hf_cache
from tests.scoring_faults import BOOM, SLOW, ReplacingReplies, raising_scorer, slow_scorer
from tests.support import app_client, migrate

pytestmark = pytest.mark.integration

__all__ = ["raising_scorer", "slow_scorer"]  # fixtures, used by name

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


async def build_teacher_set(
    settings: DataServiceSettings,
    mirror: Path,
    tmp_path: Path,
    replies: list[str],
    modes: list[str],
) -> tuple[dict[str, Any], ReplacingReplies]:
    """MATH train imported, then a teacher build in ``modes`` (the finished job) from the
    simulator behind tutor-api, its first distinct prompts' replies replaced by ``replies``."""
    tutor_db = f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"
    assert settings.database_url is not None
    await migrate("data-service", settings.database_url)
    await migrate("tutor-api", tutor_db)
    sim = httpx.ASGITransport(app=create_sim_app(SimConfig(dataset_mirror=mirror)))
    tutor_app = create_tutor_app(TutorApiSettings(database_url=tutor_db))
    replacing = ReplacingReplies(sim, replies)
    worker: dict[str, Any] = {
        "registry_transport": httpx.ASGITransport(app=tutor_app),
        "model_transport": replacing,
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
            "modes": modes,
            "seed": 1,
            "require_references": False,
        }
        job = await run_job(client, settings, "/training-sets/build/teacher", build, **worker)
    return job, replacing


async def test_the_build_keeps_its_heartbeat_while_a_slow_math_reply_is_scored(
    redis_url: str,
    math_mirror: Path,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    slow_windows: list[tuple[float, float]],
    heartbeats: list[float],
) -> None:
    beats = heartbeats
    data_db = f"sqlite+aiosqlite:///{tmp_path / 'data.db'}"
    settings = data_settings(
        data_db,
        redis_url,
        math_mirror,
        tmp_path / "d",
        shared_hf_cache(tmp_path_factory),
        job_heartbeat_s=0.2,
        job_stale_after_s=1.0,
    )
    replies = [f"{SLOW}. So $\\boxed{{\\frac{{1}}{{2}}}}$."]
    job, _ = await build_teacher_set(settings, math_mirror, tmp_path, replies, ["solve"])

    assert job["attempts"] == 1, job
    [(start, end)] = slow_windows  # the slow reply was scored once, in this job
    # the job's heartbeats went on during the scoring (on the event loop there were none)
    assert [b for b in beats if start < b < end], (start, end, beats)


@pytest.fixture
def raising_hint_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tutoring rules raise for a hint reply holding ``BOOM`` (as ``raising_scorer`` does
    for the math rules)."""

    def guidance(text: str, context: Any) -> Any:
        if BOOM in text:
            raise RuntimeError("rule exploded")
        return real_guidance(text, context)

    monkeypatch.setattr(teacher, "guidance", guidance)


async def test_a_reply_whose_scoring_raises_is_that_replys_error_not_the_builds(
    redis_url: str,
    math_mirror: Path,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
    raising_scorer: None,
    raising_hint_rules: None,
) -> None:
    settings = data_settings(
        database_url, redis_url, math_mirror, tmp_path / "d", shared_hf_cache(tmp_path_factory)
    )
    # two replies the rules raise on (whichever mode their prompts are), one holding NULs
    broken = f"{BOOM}. So $\\boxed{{2}}$. Which step comes next?"
    nul = "\x00Let us see\x00. What do you know already?"
    job, replacing = await build_teacher_set(
        settings, math_mirror, tmp_path, [broken, broken, nul], ["solve", "hint"]
    )

    assert len(replacing.replaced) == 3
    folder = tmp_path / "d" / "training_sets" / job["result"]["training_set"]
    generation = json.loads((folder / "card.json").read_text())["generation"]
    cause = "scoring failed: RuntimeError: rule exploded"
    assert generation["scoring_errors"] == 2, generation
    assert generation["scoring_error_causes"] == {cause: 2}
    prompts = MATH_TRAIN_LINES * 2  # solve and hint
    kept_or_rejected = sum(generation["kept"].values()) + sum(generation["rejected"].values())
    assert kept_or_rejected == prompts - 2 and generation["prompts"] == prompts
    # each recorded with its cause beside the rejected replies, none in the set's files
    lines = [json.loads(line) for line in (folder / "rejected.jsonl").read_text().splitlines()]
    failed = [line for line in lines if line.get("error")]
    assert [(f["response"], f["reason"], f["error"]) for f in failed] == [
        (broken, "scoring_failed", cause)
    ] * 2
    for path in folder.glob("*.jsonl"):
        if path.name != "rejected.jsonl":
            assert BOOM not in path.read_text()
    # the reply with NULs was scored as sent (kept or rejected), on either database
    texts = [line["response"] for line in lines]
    for path in folder.glob("*.messages.jsonl"):
        texts += [
            m["content"]
            for line in path.read_text().splitlines()
            for m in json.loads(line)["messages"]
        ]
    assert any("\x00Let us see\x00" in text for text in texts), texts
