"""The eval-service in one process for integration tests: its app and a real arq worker on the
real Redis and SQLite, tutor-api (the registry) and the model simulator mounted over ASGI
transports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eval_service.app import create_app as create_eval_app
from eval_service.config import EvalServiceSettings
from eval_service.worker import worker_settings
from tutor_api.app import create_app as create_tutor_app
from tutor_api.config import TutorApiSettings
from tutorlab_sim import SimConfig
from tutorlab_sim import create_app as create_sim_app

from tests.support import app_client, migrate, run_worker, unique

TUTOR_URL = "http://tutor.test"
MODEL = "sim"
TERMINAL = ("succeeded", "failed", "cancelled")


@dataclass
class EvalStack:
    evals: httpx.AsyncClient
    sim: httpx.AsyncClient
    settings: EvalServiceSettings
    tutor_transport: httpx.AsyncBaseTransport
    sim_transport: httpx.AsyncBaseTransport

    def worker(self, **overrides: Any) -> type:
        """The eval worker's settings, its edges mounted in process (``overrides``: settings)."""
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        return worker_settings(
            settings,
            registry_transport=self.tutor_transport,
            model_transport=self.sim_transport,
        )

    async def submit(self, body: dict[str, Any]) -> str:
        response = await self.evals.post("/benchmarks", json=body)
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    async def run(self, body: dict[str, Any]) -> dict[str, Any]:
        """Submit, run a worker until the queue is empty, return the finished run."""
        run_id = await self.submit(body)
        await run_worker(self.worker())
        return await self.get(run_id)

    async def get(self, run_id: str) -> dict[str, Any]:
        response = await self.evals.get(f"/benchmarks/{run_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def wait_for(self, run_id: str, done_at_least: int) -> dict[str, Any]:
        """Poll until ``done_at_least`` items are stored (or the run ended)."""
        for _ in range(600):
            run = await self.get(run_id)
            if run["status"] in TERMINAL or run["progress"]["done"] >= done_at_least:
                return run
            await asyncio.sleep(0.05)
        raise AssertionError(f"run {run_id} never reached {done_at_least} items: {run}")

    async def items(self, run_id: str) -> list[dict[str, Any]]:
        response = await self.evals.get(f"/benchmarks/{run_id}/items", params={"limit": 1000})
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def sim_config(self, **fields: Any) -> None:
        response = await self.sim.put("/sim/config", json=fields)
        assert response.status_code == 200, response.text

    async def sim_requests(self) -> int:
        stats = (await self.sim.get("/sim/stats")).json()
        return int(stats["by_endpoint"].get("POST /api/chat", 0))


@asynccontextmanager
async def eval_stack(
    redis_url: str, dataset_mirror: Path, tmp_path: Path, eval_db: str | None = None
) -> AsyncIterator[EvalStack]:
    """eval-service (outputs in ``tmp_path / "outputs"``; its database ``eval_db``, else a
    SQLite file), tutor-api with the model ``sim`` registered, and the simulator (always
    right)."""
    eval_db = eval_db or f"sqlite+aiosqlite:///{tmp_path / 'eval.db'}"
    tutor_db = f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"
    await migrate("eval-service", eval_db)
    await migrate("tutor-api", tutor_db)
    settings = EvalServiceSettings(
        database_url=eval_db,
        redis_url=redis_url,
        queue_prefix=unique("q"),
        dataset_mirror=dataset_mirror,
        data_dir=tmp_path,
        outputs_dir=tmp_path / "outputs",
        tutor_api_url=TUTOR_URL,
        use_data_service=False,
        math_verify_workers=1,
        # a worker that died mid-run loses its job quickly
        job_heartbeat_s=0.2,
        job_stale_after_s=1.0,
    )
    sim_app = create_sim_app(SimConfig(dataset_mirror=dataset_mirror, accuracy=1.0, seed=2))
    tutor_app = create_tutor_app(TutorApiSettings(database_url=tutor_db))
    tutor_transport = httpx.ASGITransport(app=tutor_app)
    sim_transport = httpx.ASGITransport(app=sim_app)
    eval_app = create_eval_app(settings, registry_transport=tutor_transport)
    async with (
        app_client(tutor_app) as tutor,
        app_client(eval_app) as evals,
        httpx.AsyncClient(transport=sim_transport, base_url="http://sim.test") as sim,
    ):
        registered = await tutor.post(
            "/models",
            json={
                "name": MODEL,
                "kind": "ollama",
                "base_url": "http://sim.test",
                "model": "qwen3:8b",
                "max_concurrency": 8,
            },
        )
        assert registered.status_code == 201, registered.text
        yield EvalStack(evals, sim, settings, tutor_transport, sim_transport)


def results_of(run: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(Path(run["result"]["results_path"]).read_text()))
