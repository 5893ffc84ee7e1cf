"""The trainer's SFT job on the real Tinker service: skipped unless TINKER_API_KEY is set.

Two SFT steps of the seed's config on Qwen/Qwen3-8B through the whole job (real rendering, the
real SDK behind TinkerBackend), ending in a saved sampler. Costs a few cents of Tinker time.
Registration goes to a real tutor-api; no benchmark is run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from trainer_service.app import create_app

from tests.integration.trainer_support import (
    SEED_LINES,
    post_config,
    run_trainer_worker,
    served_tutor_api,
    trainer_settings,
    write_jsonl,
)
from tests.support import app_client, migrate, unique

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("TINKER_API_KEY"), reason="TINKER_API_KEY is not set"),
    pytest.mark.timeout(1800),
]

CONFIG = """\
name: {name}
backend: tinker
model:
  base_model: qwen3:8b
data:
  train_file: data/socratic_train.jsonl
training:
  num_epochs: 1
  batch_size: 4
  learning_rate: 1e-4
  max_steps: 2
monitor: {{gsm8k_items: 0, tutoring_items: 0}}
"""


async def test_two_sft_steps_on_tinker(
    tmp_path: Path, redis_url: str, qwen3_tokenizer_dir: Path
) -> None:
    tutor_db = f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"
    trainer_db = f"sqlite+aiosqlite:///{tmp_path / 'trainer.db'}"
    await migrate("tutor-api", tutor_db)
    await migrate("trainer-service", trainer_db)
    write_jsonl(tmp_path / "var/data/socratic_train.jsonl", SEED_LINES)
    with served_tutor_api(tmp_path, tutor_db) as tutor_url:
        settings = trainer_settings(
            trainer_db, redis_url, tmp_path / "var", qwen3_tokenizer_dir, tutor_api_url=tutor_url
        )
        async with app_client(create_app(settings)) as client:
            submitted = await post_config(client, CONFIG.format(name=unique("live")))
            assert submitted.status_code == 202, submitted.text
            await run_trainer_worker(settings)
            run: dict[str, Any] = (await client.get(f"/trainings/{submitted.json()['id']}")).json()
            metrics = (await client.get(f"/trainings/{run['id']}/metrics")).json()
    assert run["job"]["status"] == "succeeded", run["job"]["error"]
    assert [m["step"] for m in metrics] == [1, 2]
    assert all(m["train/nll"] > 0 for m in metrics)
    assert (
        run["sampler_path"].startswith("tinker://") and "/sampler_weights/" in run["sampler_path"]
    )
    assert run["cost_usd"] > 0
