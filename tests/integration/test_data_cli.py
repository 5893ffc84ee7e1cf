"""``tutorlab data …`` against data-service served for real (uvicorn in a thread) with a real
arq worker: download --wait, list, show, items, build socratic --wait, sets, set, fetch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from data_service.app import create_app
from data_service.config import DataServiceSettings
from data_service.worker import worker_settings
from tutorlab.cli.main import app
from tutorlab.jobs.queue import ArqJobQueue
from typer.testing import CliRunner, Result

from tests.integration.data_support import data_settings, shared_hf_cache
from tests.support import migrate, run_worker, serve_in_thread

pytestmark = pytest.mark.integration

runner = CliRunner()


@contextlib.contextmanager
def serve(settings: DataServiceSettings) -> Iterator[str]:
    with serve_in_thread(create_app(settings), "data-service") as url:
        yield url


async def cli(*args: str) -> Result:
    return await asyncio.to_thread(lambda: runner.invoke(app, ["data", *args]))


def flat(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())


async def wait_until_ready(settings: DataServiceSettings) -> None:
    """The worker has started (and set up its logging) once it records its health check."""
    queue = ArqJobQueue(settings.redis_url, settings.queue_name)
    redis = await queue._redis()
    try:
        for _ in range(200):
            if await redis.exists(f"{settings.queue_name}:health-check"):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the data worker did not start")
    finally:
        await queue.close()


async def test_data_commands_end_to_end(
    redis_url: str,
    dataset_mirror: Path,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'data.db'}"
    await migrate("data-service", database_url)
    settings = data_settings(
        database_url, redis_url, dataset_mirror, tmp_path / "d", shared_hf_cache(tmp_path_factory)
    )
    monkeypatch.delenv("TUTORLAB_API_KEY", raising=False)
    with serve(settings) as url:
        monkeypatch.setenv("DATA_SERVICE_URL", url)
        worker = asyncio.create_task(run_worker(worker_settings(settings), burst=False))
        try:
            await wait_until_ready(settings)
            result = await cli("download", "--name", "gsm8k", "--source", "mirror", "--wait")
            assert result.exit_code == 0, result.output
            assert "succeeded" in result.output and "created" in result.output
            assert "1319" in result.output and "7473" in result.output

            again = await cli("download", "--name", "gsm8k", "--source", "mirror", "--wait")
            assert again.exit_code == 0 and again.output.count("unchanged") == 2

            math = await cli(
                "download", "--name", "math", "--source", "mirror", "--split", "test", "--wait"
            )
            assert math.exit_code == 0 and "5000" in math.output

            listed = await cli("list")
            assert listed.exit_code == 0
            assert all(n in listed.output for n in ("1319", "7473", "5000"))

            card = json.loads((await cli("show", "gsm8k", "test")).output)
            assert card["counts"]["rows"] == 1319
            page = json.loads((await cli("items", "gsm8k", "test", "--q", "ducks")).output)
            assert page["total"] >= 1 and "ducks" in page["items"][0]["question"].lower()
            missing = await cli("show", "math500", "test")
            assert missing.exit_code == 1
            assert "404: dataset math500/test has not been imported" in flat(missing.output)

            built = await cli("build", "socratic", "--max-problems", "40", "--seed", "1", "--wait")
            assert built.exit_code == 0, built.output
            set_id = re.search(r"ts_[0-9a-f]{24}", built.output)
            assert set_id is not None
            sets = await cli("sets")
            assert sets.exit_code == 0 and "socratic" in sets.output
            shown = json.loads((await cli("set", set_id.group(0))).output)
            assert shown["builder"] == "socratic" and shown["params"]["max_problems"] == 40

            out = tmp_path / "eval.jsonl"
            fetched = await cli("fetch", set_id.group(0), "--part", "eval", "-o", str(out))
            assert fetched.exit_code == 0, fetched.output
            rows = [json.loads(line) for line in out.read_text().splitlines()]
            assert len(rows) == shown["counts"]["eval"]["examples"] > 0
            checked = await cli("validate", str(out))
            assert checked.exit_code == 0, checked.output
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
