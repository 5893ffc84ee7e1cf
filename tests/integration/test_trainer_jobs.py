"""Training jobs end to end in process: the trainer's API and a real arq worker on real Redis and
SQLite, the simulated (learning) backend, real Qwen3 rendering, and a real tutor-api over HTTP
that the trained sampler is registered in."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from trainer_service.backends import SimulatedBackend, SimulatedLatencies
from trainer_service.methods.sft import SftSettings, batch_digest, sft_steps
from trainer_service.worker import worker_settings
from tutorlab.db import create_engine
from tutorlab.jobs.queue import ArqJobQueue

from tests.integration.trainer_support import (
    post_config,
    run_trainer_worker,
    trainer_stack,
)
from tests.support import run_worker, unique

pytestmark = pytest.mark.integration

SFT_CONFIG = """\
name: {name}
backend: simulated
model:
  base_model: qwen3:8b
data:
  train_file: data/socratic_train.jsonl
  eval_file: data/socratic_eval.jsonl
training:
  num_epochs: 6
  batch_size: 4
  learning_rate: 2e-4
  lr_schedule: constant
  eval_every: 3
  save_every: 3
  max_length: 512
monitor:
  gsm8k_items: 2
  tutoring_items: 2
  max_tokens: 16
{extra}"""


@pytest.fixture
async def stack(
    tmp_path: Path, redis_url: str, qwen3_tokenizer_dir: Path, dataset_mirror: Path
) -> Any:
    async with trainer_stack(
        tmp_path,
        redis_url,
        qwen3_tokenizer_dir,
        dataset_mirror,
        job_stale_after_s=1.0,
        job_heartbeat_s=0.2,
    ) as built:
        yield built


def config(name: str, extra: str = "") -> str:
    return SFT_CONFIG.format(name=name, extra=extra)


async def test_sft_on_the_seed_form_lowers_eval_nll_and_registers_the_sampler(stack: Any) -> None:
    settings, client, tutor_url = stack
    name = unique("sft")
    submitted = await post_config(client, config(name))
    assert submitted.status_code == 202, submitted.text
    training_id = submitted.json()["id"]
    assert submitted.headers["location"] == f"/trainings/{training_id}"
    await run_trainer_worker(settings)

    run = (await client.get(f"/trainings/{training_id}")).json()
    assert run["job"]["status"] == "succeeded", run["job"]
    assert run["step"] == run["total_steps"] == 18  # 12 lines / batch 4 × 6 epochs
    assert run["phase"] == "done" and run["cost_usd"] > 0
    metrics = (await client.get(f"/trainings/{training_id}/metrics")).json()
    assert [m["step"] for m in metrics] == list(range(1, 19))  # one row a step, no duplicate
    evals = [m["eval/nll"] for m in metrics if "eval/nll" in m]
    assert len(evals) == 6 and evals[-1] < evals[0] * 0.8, evals
    assert metrics[-1]["train/nll"] < metrics[0]["train/nll"]
    assert all("eval/gsm8k_accuracy" in m for m in metrics if "eval/nll" in m)
    assert metrics[-1]["cost/cumulative_usd"] == pytest.approx(run["cost_usd"], rel=1e-6)

    kinds = {(c["kind"], c["final"]) for c in run["checkpoints"]}
    assert ("state", False) in kinds and ("sampler", True) in kinds
    periodic = [c for c in run["checkpoints"] if not c["final"]]
    assert all(c["expires_at"] for c in periodic)  # intermediate checkpoints get a TTL
    sampler = next(c for c in run["checkpoints"] if c["kind"] == "sampler")
    assert sampler["expires_at"] is None and "/sampler_weights/" in sampler["path"]

    async with httpx.AsyncClient(base_url=tutor_url) as tutor:
        model = (await tutor.get(f"/models/{run['registered_model']}")).json()
    assert model["kind"] == "openai" and model["model"] == sampler["path"]  # simulated: no Tinker
    assert model["metadata"]["training_id"] == training_id
    assert model["metadata"]["base_model"] == "Qwen/Qwen3-8B"
    assert len(model["metadata"]["data_sha256"]) == 64

    folder = Path(run["experiment"])
    assert folder.is_relative_to(settings.data_dir / "experiments" / "sft")
    for file in (
        "config.yaml",
        "metrics.jsonl",
        "checkpoints.jsonl",
        "README.md",
        "experiment.json",
    ):
        assert (folder / file).is_file(), file
    assert len((folder / "metrics.jsonl").read_text().splitlines()) == 18
    readme = (folder / "README.md").read_text()
    assert "Simulated." in readme and "Qwen/Qwen3-8B" in readme and "12 examples" in readme
    experiment = (await client.get(f"/experiments/{training_id}")).json()
    assert experiment["readme"] == readme
    listed = (await client.get("/experiments")).json()
    assert [e["id"] for e in listed] == [training_id]


async def test_a_config_error_names_its_field_and_line(stack: Any) -> None:
    _, client, _ = stack
    bad = config(unique("bad")).replace("  learning_rate: 2e-4", "  learning_rate: fast")
    response = await post_config(client, bad + "surprise: 1\n")
    assert response.status_code == 422
    detail = {d["field"]: d["line"] for d in response.json()["detail"]}
    assert detail["training.learning_rate"] == 11
    assert "surprise" in detail
    outside = config(unique("out")).replace("data/socratic_eval.jsonl", "/etc/passwd")
    response = await post_config(client, outside)
    assert response.status_code == 422
    assert response.json()["error"].startswith("data.eval_file:")
    assert "exists" not in response.json()["error"]


async def test_a_tinker_run_without_a_key_fails_at_once_naming_the_variable(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, client, _ = stack
    settings.tinker_api_key = None
    submitted = await post_config(
        client, config(unique("key")).replace("backend: simulated", "backend: tinker")
    )
    assert submitted.status_code == 202
    await run_trainer_worker(settings)
    job = (await client.get(f"/trainings/{submitted.json()['id']}")).json()["job"]
    assert job["status"] == "failed" and "TINKER_API_KEY" in job["error"]
    assert job["attempts"] == 1


async def test_max_cost_stops_before_the_step_that_would_exceed_it(stack: Any) -> None:
    settings, client, _ = stack
    submitted = await post_config(client, config(unique("budget"), "max_cost_usd: 0.002\n"))
    await run_trainer_worker(settings)
    run = (await client.get(f"/trainings/{submitted.json()['id']}")).json()
    assert run["job"]["status"] == "succeeded"
    assert run["stopped_reason"].startswith("max_cost_usd:")
    assert 0 < run["step"] < 18 and run["cost_usd"] <= 0.002
    assert any(c["kind"] == "state" and c["step"] == run["step"] for c in run["checkpoints"])


async def test_cancel_stops_after_the_step_in_flight_with_a_checkpoint(stack: Any) -> None:
    settings, client, _ = stack
    slow = "simulated:\n  forward_backward_s: 0.05\n  optim_step_s: 0.02\n"
    submitted = await post_config(client, config(unique("cancel"), slow))
    training_id = submitted.json()["id"]
    worker = asyncio.create_task(run_trainer_worker(settings))
    for _ in range(400):
        run = (await client.get(f"/trainings/{training_id}")).json()
        if run["step"] >= 4:
            break
        await asyncio.sleep(0.05)
    assert (await client.delete(f"/trainings/{training_id}")).status_code == 200
    await asyncio.wait_for(worker, 60)
    run = (await client.get(f"/trainings/{training_id}")).json()
    assert run["job"]["status"] == "cancelled"
    assert run["step"] < 18
    saved = [c for c in run["checkpoints"] if c["kind"] == "state"]
    assert saved and saved[-1]["step"] == run["step"]


async def test_a_killed_worker_resumes_from_its_checkpoint_without_repeating_a_step(
    stack: Any,
) -> None:
    settings, client, _ = stack
    slow = "simulated:\n  forward_backward_s: 0.05\n  optim_step_s: 0.02\n"
    submitted = await post_config(client, config(unique("resume"), slow))
    training_id = submitted.json()["id"]
    first = asyncio.create_task(run_trainer_worker(settings, burst=False))
    for _ in range(400):  # past the step-3 checkpoint, before the step-6 one
        checkpoints = (await client.get(f"/trainings/{training_id}")).json()["checkpoints"]
        metrics = (await client.get(f"/trainings/{training_id}/metrics")).json()
        if any(c["step"] == 3 for c in checkpoints) and len(metrics) >= 4:
            break
        await asyncio.sleep(0.02)
    first.cancel()  # the worker dies: its job stays "running" with a heartbeat going stale
    with pytest.raises(asyncio.CancelledError):
        await first
    job = (await client.get(f"/jobs/{training_id}")).json()
    assert job["status"] == "running"
    await asyncio.sleep(settings.job_stale_after_s + 0.5)
    await run_trainer_worker(settings)  # its reconcile takes the job over
    run = (await client.get(f"/trainings/{training_id}")).json()
    assert run["job"]["status"] == "succeeded" and run["job"]["attempts"] == 2
    metrics = (await client.get(f"/trainings/{training_id}/metrics")).json()
    assert [m["step"] for m in metrics] == list(range(1, 19))
    lines = (Path(run["experiment"]) / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 18
    # the data cursor: every step trained on its planned batch, none repeated or skipped
    plan = sft_steps(12, SftSettings(4, 6, 2e-4, "constant", 0, 3, 0))
    assert [m["data/batch"] for m in metrics] == [batch_digest(b) for b in plan]
    # and the weights came back exactly: an uninterrupted run of the same config agrees
    again = await post_config(client, config(unique("straight"), slow))
    await run_trainer_worker(settings)
    straight = (await client.get(f"/trainings/{again.json()['id']}/metrics")).json()
    assert [m["train/nll"] for m in straight] == pytest.approx([m["train/nll"] for m in metrics])


async def test_sft_queues_the_next_step_before_it_waits_for_the_last(stack: Any) -> None:
    """The pipelining order, recorded by the backend: step k+1's forward-backward is queued
    before the loop waits for step k, so the optimizer step never leaves the backend idle."""
    settings, client, _ = stack
    made: list[SimulatedBackend] = []

    def factory(config: Any, s: Any) -> SimulatedBackend:
        latencies = SimulatedLatencies(forward_backward=0.02, optim_step=0.01)
        made.append(SimulatedBackend(s.simulated_state_dir, latencies=latencies))
        return made[-1]

    text = config(unique("pipe")).replace("eval_every: 3", "eval_every: 100")
    text = text.replace("save_every: 3", "save_every: 100")
    submitted = await post_config(client, text)
    await run_worker(worker_settings(settings, backend_factory=factory))
    run = (await client.get(f"/trainings/{submitted.json()['id']}")).json()
    assert run["job"]["status"] == "succeeded"
    events: list[tuple[str, str, int]] = [(e.op, e.event, e.step) for e in made[0].events]

    def at(op: str, event: str, step: int) -> int:
        return events.index((op, event, step))

    for k in range(17):
        assert at("optim_step", "submit", k) < at("forward_backward", "await", k)
        assert at("forward_backward", "submit", k + 1) < at("forward_backward", "await", k)
        assert at("forward_backward", "submit", k + 1) < at("optim_step", "await", k)


async def test_no_file_outside_the_data_directory_is_read(stack: Any) -> None:
    """Every path a config names (data, RLVR problems, a local tokenizer) must resolve inside
    the data directory or the dataset mirror; a refusal does not say whether the file exists."""
    _, client, _ = stack
    for needle, replacement, field in (
        ("data/socratic_train.jsonl", "../../etc/passwd", "data.train_file"),
        ("  base_model: qwen3:8b", "  base_model: qwen3:8b\n  tokenizer: /etc", "model.tokenizer"),
    ):
        text = config(unique("path")).replace(needle, replacement)
        response = await post_config(client, text)
        assert response.status_code == 422, response.text
        assert response.json()["error"].startswith(f"{field}:"), response.json()
        assert "exist" not in response.json()["error"]


async def test_the_base_model_is_checked_against_the_servers_capabilities(stack: Any) -> None:
    settings, client, _ = stack
    too_long = config(unique("ctx")).replace("max_length: 512", "max_length: 65536")
    not_offered = config(unique("model")).replace("base_model: qwen3:8b", "base_model: qwen3:32b")
    ids = [(await post_config(client, text)).json()["id"] for text in (too_long, not_offered)]
    await run_trainer_worker(settings)
    first, second = [(await client.get(f"/trainings/{i}")).json()["job"] for i in ids]
    assert first["status"] == "failed" and first["error"].startswith("training.max_length:")
    assert "32768" in first["error"]
    assert second["status"] == "failed" and second["error"].startswith("model.base_model:")
    assert "Qwen/Qwen3-32B" in second["error"]


async def test_a_run_taken_over_after_its_final_save_keeps_its_sampler(stack: Any) -> None:
    """A worker that dies after the final save (say, while registering) leaves a job that runs
    again: it keeps the saved weights and the registered sampler instead of making new ones."""
    settings, client, _ = stack
    submitted = await post_config(client, config(unique("again")))
    training_id = submitted.json()["id"]
    await run_trainer_worker(settings)
    first = (await client.get(f"/trainings/{training_id}")).json()
    assert first["job"]["status"] == "succeeded"
    engine = create_engine(settings.resolved_database_url)
    try:
        async with engine.begin() as conn:  # as if the job had never finished
            await conn.execute(
                text("UPDATE jobs SET status = 'queued', finished_at = NULL WHERE id = :id"),
                {"id": training_id},
            )
    finally:
        await engine.dispose()
    queue = ArqJobQueue(settings.redis_url, settings.queue_name)
    await queue.enqueue(training_id, arq_job_id=f"{training_id}:again")
    await queue.close()
    await run_trainer_worker(settings)
    again = (await client.get(f"/trainings/{training_id}")).json()
    assert again["job"]["status"] == "succeeded", again["job"]["error"]
    assert again["sampler_path"] == first["sampler_path"]
    assert again["registered_model"] == first["registered_model"]
    samplers = [c for c in again["checkpoints"] if c["kind"] == "sampler"]
    assert len(samplers) == 1
    metrics = (await client.get(f"/trainings/{training_id}/metrics")).json()
    assert [m["step"] for m in metrics] == list(range(1, 19))
