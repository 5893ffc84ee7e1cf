"""The whole loop through real processes: a baseline benchmark, a user's JSONL uploaded by the
CLI, SFT on the simulated backend, the sampler registered in tutor-api and served by the
simulator, the automatic benchmark compared with the baseline, and the experiment's README."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from trainer_service.methods.sft import SftSettings, batch_digest, sft_steps
from tutorlab.dev.devstack import Stack

from tests.integration.trainer_support import SEED_LINES, write_jsonl

pytestmark = pytest.mark.e2e

#: the installed CLI, beside this interpreter
TUTORLAB = str(Path(sys.executable).parent / "tutorlab")

CONFIG = """\
# the seed's config as written, on the simulated backend
backend: simulated
model:
  base_model: qwen3:8b
data:
  train_file: data/socratic_train.jsonl
  eval_file: data/socratic_eval.jsonl
training:
  num_epochs: 2
  batch_size: 4
  learning_rate: 1e-3
  eval_every: 3
monitor: {gsm8k_items: 4, tutoring_items: 4, max_tokens: 16}
benchmark_after:
  suite: quick
  compare_to: BASELINE
"""


def wait(client: httpx.Client, path: str, timeout_s: float = 240) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = client.get(path, params={"wait_s": 5}, timeout=30).json()
        status = body.get("status") or body["job"]["status"]
        if status in ("succeeded", "failed", "cancelled"):
            return body
    raise AssertionError(f"{path} did not finish: {body}")


def test_train_register_benchmark_and_compare(
    stack: Stack, tutor: httpx.Client, evals: httpx.Client, tmp_path: Path
) -> None:
    data = httpx.Client(base_url=stack.url("data-service"), timeout=60)
    trainer = httpx.Client(base_url=stack.url("trainer-service"), timeout=60)
    # the data-service checks uploads against the test sets: import them
    imported = data.post("/datasets/download", json={"name": "all", "source": "mirror"})
    assert imported.status_code == 202, imported.text
    assert wait(data, imported.headers["location"])["status"] == "succeeded"

    tutor.post(
        "/models",
        json={
            "name": "sim-baseline",
            "kind": "openai",
            "base_url": stack.url("simulator") + "/v1",
            "model": "qwen3:8b",
        },
    ).raise_for_status()
    baseline = evals.post("/benchmarks", json={"model": "sim-baseline", "suite": "quick"})
    assert baseline.status_code == 202, baseline.text
    assert wait(evals, baseline.headers["location"])["status"] == "succeeded"

    write_jsonl(tmp_path / "data/socratic_train.jsonl", SEED_LINES)
    write_jsonl(tmp_path / "data/socratic_eval.jsonl", SEED_LINES[::3])
    config = tmp_path / "sft.yaml"
    config.write_text(CONFIG.replace("BASELINE", baseline.json()["id"]))
    env = {**stack.environment(), "COLUMNS": "200"}
    cli = subprocess.run(
        [TUTORLAB, "train", "run", "--config", str(config)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert cli.stdout.count("uploaded ") == 2
    training_id = cli.stdout.split("submitted ")[1].split()[0]

    run = wait(trainer, f"/trainings/{training_id}", timeout_s=400)
    assert run["job"]["status"] == "succeeded", run["job"]["error"]
    assert run["step"] == run["total_steps"] == 6 and run["phase"] == "done"
    model = tutor.get(f"/models/{run['registered_model']}").json()
    assert model["kind"] == "openai" and model["model"] == run["sampler_path"]
    assert model["metadata"]["simulated"] is True
    assert model["base_url"] == stack.url("simulator") + "/v1"

    bench = evals.get(f"/benchmarks/{run['benchmark_id']}").json()
    assert bench["status"] == "succeeded" and bench["params"]["model"] == model["name"]
    folder = Path(run["experiment"])
    comparison = json.loads((folder / "comparison.json").read_text())
    assert comparison["metrics"]  # every compared metric has a verdict
    readme = (folder / "README.md").read_text()
    assert "Simulated." in readme and "GSM8K accuracy" in readme
    assert "## Comparison with the baseline" in readme and "| gsm8k.accuracy |" in readme

    shown = subprocess.run(
        [TUTORLAB, "experiments", "show", training_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "Comparison with the baseline" in shown.stdout
    assert os.path.basename(str(folder)) in shown.stdout


OFF_POLICY = """\
name: offpolicy-e2e
method: distillation
backend: simulated
model: {base_model: qwen3:8b}
distillation:
  mode: off_policy
  teacher: sim-teacher
  teacher_set: {dataset: gsm8k, max_problems: 20, modes: [solve, hint], require_references: true}
training: {num_epochs: 1, batch_size: 8, learning_rate: 1e-3, max_length: 1024}
monitor: {gsm8k_items: 0, tutoring_items: 0}
"""


def test_off_policy_distillation_trains_on_the_teachers_set(
    stack: Stack, tutor: httpx.Client
) -> None:
    """A registered teacher answers problems through the data-service's teacher builder; the
    filtered replies become a training set; the student is fine-tuned on it."""
    data = httpx.Client(base_url=stack.url("data-service"), timeout=60)
    trainer = httpx.Client(base_url=stack.url("trainer-service"), timeout=60)
    imported = data.post("/datasets/download", json={"name": "all", "source": "mirror"})
    assert wait(data, imported.headers["location"])["status"] == "succeeded"
    tutor.post(
        "/models",
        json={
            "name": "sim-teacher",
            "kind": "openai",
            "base_url": stack.url("simulator") + "/v1",
            "model": "qwen3:32b",
        },
    ).raise_for_status()
    submitted = trainer.post(
        "/trainings", content=OFF_POLICY.encode(), headers={"content-type": "application/yaml"}
    )
    assert submitted.status_code == 202, submitted.text
    run = wait(trainer, f"/trainings/{submitted.json()['id']}", timeout_s=400)
    assert run["job"]["status"] == "succeeded", run["job"]["error"]
    summary = json.loads((Path(run["experiment"]) / "experiment.json").read_text())
    set_id = summary["teacher_set"]
    card = data.get(f"/training-sets/{set_id}").json()
    assert card["builder"] == "teacher"
    assert summary["data"]["train"]["source"] == f"{set_id}:train"
    assert summary["data"]["train"]["count"] == card["train_rows"] > 0
    metrics = trainer.get(f"/trainings/{run['id']}/metrics").json()
    assert len(metrics) == run["total_steps"] >= 2
    # the student learns the teacher's replies: its loss on them falls
    assert metrics[-1]["train/nll"] < metrics[0]["train/nll"]


KILLED = """\
name: killed-e2e
backend: simulated
model: {base_model: qwen3:8b}
data: {train_file: data/socratic_train.jsonl}
training: {num_epochs: 8, batch_size: 4, learning_rate: 1e-3, save_every: 3, eval_every: 100}
monitor: {gsm8k_items: 0, tutoring_items: 0}
simulated: {forward_backward_s: 0.25, optim_step_s: 0.05}
"""


def test_a_sigkilled_trainer_worker_is_taken_over_from_its_checkpoint(
    stack: Stack, tmp_path: Path
) -> None:
    trainer = httpx.Client(base_url=stack.url("trainer-service"), timeout=60)
    data_dir = Path(stack.environment()["TUTORLAB_DATA_DIR"])
    write_jsonl(data_dir / "data/socratic_train.jsonl", SEED_LINES)
    submitted = trainer.post(
        "/trainings", content=KILLED.encode(), headers={"content-type": "application/yaml"}
    )
    assert submitted.status_code == 202, submitted.text
    training_id = submitted.json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = trainer.get(f"/trainings/{training_id}").json()
        if run["step"] >= 5:
            break
        time.sleep(0.1)
    stack.kill("trainer-worker")
    assert trainer.get(f"/trainings/{training_id}").json()["job"]["status"] == "running"
    stack.start_worker("trainer-worker")
    run = wait(trainer, f"/trainings/{training_id}", timeout_s=240)
    assert run["job"]["status"] == "succeeded", run["job"]["error"]
    assert run["job"]["attempts"] == 2
    metrics = trainer.get(f"/trainings/{training_id}/metrics").json()
    assert [m["step"] for m in metrics] == list(range(1, 25))  # 12 lines / 4 × 8 epochs
    # every step trained on its planned batch: none repeated, none skipped
    plan = sft_steps(12, SftSettings(4, 8, 1e-3, "linear", 0, 100, 0))
    assert [m["data/batch"] for m in metrics] == [batch_digest(b) for b in plan]
    lines = (Path(run["experiment"]) / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 24
