"""Tracking to MLflow for real: a benchmark run through the in-process eval stack and a short
simulated training, each logged by MLflow's own client to a file store in tmp, then read back
with ``MlflowClient`` and checked against the run's own results; an MLflow that cannot be reached
fails neither."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from mlflow import MlflowClient
from mlflow.entities import Run
from trainer_service.config import TrainerServiceSettings

from tests.integration.eval_support import MODEL, EvalStack, eval_stack, results_of
from tests.integration.trainer_support import post_config, run_trainer_worker, trainer_stack
from tests.support import run_worker, unique

pytestmark = pytest.mark.integration

BODY = {"model": MODEL, "tasks": ["gsm8k"], "limit": 6, "seed": 1, "no_cache": True}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An MLflow file store in tmp (MLflow 3 asks for the opt-in to file stores)."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    return f"file://{tmp_path / 'mlruns'}"


@pytest.fixture
async def stack(redis_url: str, dataset_mirror: Path, tmp_path: Path) -> AsyncIterator[EvalStack]:
    async with eval_stack(redis_url, dataset_mirror, tmp_path) as built:
        yield built


def runs_in(store: str, experiment: str) -> list[Run]:
    client = MlflowClient(tracking_uri=store)
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment!r}"
    return list(client.search_runs([found.experiment_id], order_by=["attributes.start_time"]))


async def test_a_benchmark_run_is_logged_with_its_params_metrics_and_results_file(
    stack: EvalStack, store: str, tmp_path: Path
) -> None:
    tracked = {"tracking": "mlflow", "mlflow_tracking_uri": store, "mlflow_experiment_name": "b"}
    first_id = await stack.submit({**BODY, "label": "base"})
    await run_worker(stack.worker(**tracked))
    second_id = await stack.submit({**BODY, "label": "base", "compare_to": first_id})
    await run_worker(stack.worker(**tracked))
    first, second = await stack.get(first_id), await stack.get(second_id)
    assert first["status"] == second["status"] == "succeeded", (first, second)

    runs = runs_in(store, "b")
    assert [r.info.run_name for r in runs] == [f"base/{first_id}", f"base/{second_id}"]
    client = MlflowClient(tracking_uri=store)
    for job, run in ((first, runs[0]), (second, runs[1])):
        results = results_of(job)
        assert job["result"]["tracking"] == {"backend": "mlflow", "run_id": run.info.run_id}
        assert "tracking_error" not in job["result"]
        assert run.info.status == "FINISHED"
        assert run.data.tags["tutorlab.run_id"] == job["id"]
        assert run.data.tags["tutorlab.label"] == "base"
        params = run.data.params
        assert params["config.model"] == MODEL and params["config.tasks"] == "gsm8k"
        assert params["config.limit"] == "6" and params["config.seed"] == "1"
        assert params["scorer_version"] == results["scorer_version"]
        assert params["scorers.gsm8k"] == "gsm8k"
        checksums = results["dataset_checksums"]
        assert checksums and all(
            params[f"dataset_checksums.{k}"] == v for k, v in checksums.items()
        )
        assert params["model.model"] == results["model"]["model"]
        metrics = run.data.metrics
        accuracy = results["metrics"]["gsm8k"]["accuracy"]
        assert metrics["gsm8k.accuracy"] == pytest.approx(accuracy["mean"])
        assert metrics["gsm8k.accuracy.ci_low"] == pytest.approx(accuracy["ci_low"])
        assert metrics["gsm8k.accuracy.ci_high"] == pytest.approx(accuracy["ci_high"])
        assert metrics["gsm8k.accuracy.n"] == accuracy["n"] == 6
        for name, summary in results["metrics"]["gsm8k"].items():  # every metric, not one
            if summary["mean"] is not None:
                assert metrics[f"gsm8k.{name}"] == pytest.approx(summary["mean"]), name
        assert metrics["counts.items"] == 6 and metrics["error_rate"] == results["error_rate"]
        # the results file itself is the run's artifact, byte for byte
        downloaded = client.download_artifacts(
            run.info.run_id, "benchmark_results.json", str(tmp_path / job["id"])
        )
        assert Path(downloaded).read_bytes() == Path(job["result"]["results_path"]).read_bytes()
    artifacts = {a.path for a in client.list_artifacts(runs[1].info.run_id)}
    assert artifacts == {"benchmark_results.json", "comparison.json"}  # the baseline's: one
    assert {a.path for a in client.list_artifacts(runs[0].info.run_id)} == {
        "benchmark_results.json"
    }


class Recorded(logging.Handler):
    """The records of one logger (the worker sets up its own logging, past caplog's reach)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_an_unreachable_mlflow_fails_no_benchmark(
    stack: EvalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    run_id = await stack.submit({**BODY, "label": "untracked"})
    recorded = Recorded()
    logging.getLogger("tutorlab.tracking").addHandler(recorded)
    try:
        await run_worker(
            stack.worker(
                tracking="mlflow",
                mlflow_tracking_uri="http://127.0.0.1:9",  # nothing listens there
                tracking_timeout_s=60,
            )
        )
    finally:
        logging.getLogger("tutorlab.tracking").removeHandler(recorded)
    run = await stack.get(run_id)
    assert run["status"] == "succeeded", run
    assert run["result"]["tracking"] == {"backend": "mlflow", "run_id": None}
    assert run["result"]["tracking_error"].startswith("mlflow start: MlflowException: ")
    assert results_of(run)["counts"]["items"] == 6  # the run's results are all there
    assert len(recorded.records) == 1 and run_id in recorded.records[0].getMessage()


SFT_CONFIG = """\
name: {name}
backend: simulated
model:
  base_model: qwen3:8b
data:
  train_file: data/socratic_train.jsonl
  eval_file: data/socratic_eval.jsonl
training:
  num_epochs: 2
  batch_size: 4
  learning_rate: 2e-4
  lr_schedule: constant
  eval_every: 3
  save_every: 3
  max_length: 512
monitor:
  gsm8k_items: 1
  tutoring_items: 1
  max_tokens: 16
"""


@pytest.fixture
async def trainer(
    tmp_path: Path, redis_url: str, qwen3_tokenizer_dir: Path, dataset_mirror: Path, store: str
) -> AsyncIterator[tuple[TrainerServiceSettings, httpx.AsyncClient]]:
    async with trainer_stack(
        tmp_path,
        redis_url,
        qwen3_tokenizer_dir,
        dataset_mirror,
        tracking="mlflow",
        mlflow_tracking_uri=store,
        mlflow_experiment_name="t",
    ) as (settings, client, _):
        yield settings, client


async def test_a_training_run_logs_its_config_and_every_steps_metrics(
    trainer: tuple[TrainerServiceSettings, httpx.AsyncClient], store: str
) -> None:
    settings, client = trainer
    submitted = await post_config(client, SFT_CONFIG.format(name=unique("sft")))
    assert submitted.status_code == 202, submitted.text
    training_id = submitted.json()["id"]
    await run_trainer_worker(settings)
    run = (await client.get(f"/trainings/{training_id}")).json()
    assert run["job"]["status"] == "succeeded", run["job"]
    rows = (await client.get(f"/trainings/{training_id}/metrics")).json()
    assert [m["step"] for m in rows] == list(range(1, 7))  # 12 lines / batch 4 × 2 epochs

    [tracked] = runs_in(store, "t")
    assert tracked.info.run_name == run["name"] and tracked.info.status == "FINISHED"
    assert tracked.data.tags["tutorlab.training_id"] == training_id
    params = tracked.data.params
    assert params["method"] == "sft" and params["backend"] == "simulated"
    assert params["model.base_model"] == "qwen3:8b" and params["base_model_id"] == "Qwen/Qwen3-8B"
    assert float(params["training.learning_rate"]) == 2e-4
    assert (
        params["training.batch_size"] == "4"
        and params["data.train_file"] == "data/socratic_train.jsonl"
    )

    assert [m["step"] for m in rows if "eval/nll" in m] == [3, 6]  # eval_every: 3
    mlflow = MlflowClient(tracking_uri=store)
    for key in ("train/nll", "cost/cumulative_usd", "eval/nll", "eval/gsm8k_accuracy"):
        expected = [(m["step"], m[key]) for m in rows if m.get(key) is not None]
        history = mlflow.get_metric_history(tracked.info.run_id, key)
        got = sorted((h.step, h.value) for h in history)
        assert expected and [s for s, _ in got] == [s for s, _ in expected], key
        assert [v for _, v in got] == pytest.approx([v for _, v in expected]), key

    experiment = json.loads((Path(run["experiment"]) / "experiment.json").read_text())
    assert experiment["tracking"] == {"backend": "mlflow", "run_id": tracked.info.run_id}
    assert "tracking_error" not in experiment
