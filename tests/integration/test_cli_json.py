"""``tutorlab … --json`` against the services served for real (uvicorn in a thread, SQLite, real
Redis and arq workers): every read command's output parses and carries full ids; ``--url`` is
the one address used (each ``*_URL`` variable points nowhere); tables keep ids whole in a narrow
terminal; a 422 names the flag to change; Ctrl-C while watching leaves the run going and prints
the command that cancels it, which works."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from data_service.app import create_app as create_data_app
from data_service.worker import worker_settings as data_worker_settings
from eval_service.app import create_app as create_eval_app
from eval_service.config import EvalServiceSettings
from eval_service.worker import worker_settings as eval_worker_settings
from trainer_service.app import create_app as create_trainer_app
from tutor_api.app import create_app as create_tutor_app
from tutor_api.config import TutorApiSettings
from tutorlab.cli import bench, jobs, train
from tutorlab.cli.http import request as http_request
from tutorlab.cli.main import app
from tutorlab.cli.params import KNOWN_PARAMS
from tutorlab.datasets.mirror import load_mirror
from tutorlab_sim import SimConfig
from tutorlab_sim import create_app as create_sim_app
from typer.testing import CliRunner, Result

from tests.integration.data_support import data_settings, shared_hf_cache
from tests.integration.trainer_support import (
    SEED_LINES,
    run_trainer_worker,
    served_tutor_api,
    trainer_settings,
    write_jsonl,
)
from tests.support import migrate, run_worker, serve_in_thread, unique

pytestmark = pytest.mark.integration

runner = CliRunner()
#: a port nothing listens on: a command that used the environment instead of --url fails
NOWHERE = "http://127.0.0.1:9"
RUN_ID = re.compile(r"^bench_[0-9a-f]{24}$")


@pytest.fixture(autouse=True)
def urls_point_nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ("TUTOR_API_URL", "EVAL_SERVICE_URL", "DATA_SERVICE_URL", "TRAINER_SERVICE_URL"):
        monkeypatch.setenv(env, NOWHERE)
    monkeypatch.delenv("TUTORLAB_API_KEY", raising=False)


async def cli(*args: str, columns: int = 200) -> Result:
    return await asyncio.to_thread(runner.invoke, app, list(args), env={"COLUMNS": str(columns)})


async def cli_json(*args: str) -> Any:
    """Run with --json: exit 0, and stdout is one JSON document and nothing else."""
    result = await cli(*args, "--json")
    assert result.exit_code == 0, (args, result.output)
    return json.loads(result.stdout)


def flat(text: str) -> str:
    return " ".join(text.split())


@dataclass
class EvalServed:
    tutor: str
    evals: str
    sim: str
    settings: EvalServiceSettings

    async def work(self) -> None:
        """Run an eval worker until the queue is empty."""
        await run_worker(eval_worker_settings(self.settings))

    async def register_sim(self, *flags: str) -> Any:
        return await cli_json(
            "models", "register", "sim", "--kind", "ollama", "--model", "qwen3:8b",
            "--base-url", self.sim, "--url", self.tutor, *flags,
        )  # fmt: skip


@pytest.fixture
async def served_eval(
    tmp_path: Path, redis_url: str, dataset_mirror: Path
) -> AsyncIterator[EvalServed]:
    """tutor-api, eval-service and the simulator (always right) over real HTTP."""
    tutor_db = f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"
    eval_db = f"sqlite+aiosqlite:///{tmp_path / 'eval.db'}"
    await migrate("tutor-api", tutor_db)
    await migrate("eval-service", eval_db)
    tutor_app = create_tutor_app(
        TutorApiSettings(database_url=tutor_db, data_dir=tmp_path / "tutor")
    )
    sim_app = create_sim_app(SimConfig(dataset_mirror=dataset_mirror, accuracy=1.0, seed=2))
    with (
        serve_in_thread(sim_app, "simulator") as sim_url,
        serve_in_thread(tutor_app, "tutor-api") as tutor_url,
    ):
        settings = EvalServiceSettings(
            database_url=eval_db,
            redis_url=redis_url,
            queue_prefix=unique("q"),
            dataset_mirror=dataset_mirror,
            data_dir=tmp_path,
            outputs_dir=tmp_path / "outputs",
            tutor_api_url=tutor_url,
            use_data_service=False,
            math_verify_workers=1,
        )
        with serve_in_thread(create_eval_app(settings), "eval-service") as eval_url:
            yield EvalServed(tutor_url, eval_url, sim_url, settings)


async def test_models_and_benchmarks_as_json(served_eval: EvalServed) -> None:
    tutor, evals = ("--url", served_eval.tutor), ("--url", served_eval.evals)
    registered = await served_eval.register_sim(
        "--param", "max_tokens=256", "--extra-param", "repeat_penalty=1.1"
    )
    assert registered["params"] == {"max_tokens": 256, "repeat_penalty": 1.1}
    assert [m["name"] for m in await cli_json("models", "list", *tutor)] == ["sim"]
    assert (await cli_json("models", "show", "sim", *tutor))["base_url"] == served_eval.sim
    updated = await cli_json("models", "update", "sim", "--param", "max_tokens=512", *tutor)
    assert updated["params"] == {"max_tokens": 512}  # --param replaces them as a whole
    assert (await cli_json("models", "activate", "sim", *tutor))["active"] is True
    assert (await cli_json("models", "probe", "sim", *tutor))["ok"] is True
    history = served_eval.settings.data_dir / "history.json"
    history.write_text(
        json.dumps([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}])
    )
    reply = await cli_json(
        "chat", "What is 3/4 of 20?", "--mode", "hint", "--grade", "5", "--history", str(history),
        *tutor,
    )  # fmt: skip
    assert reply["model"] == "sim" and reply["mode"] == "hint" and reply["reply"]
    history.write_text('{"role": "user"}')
    refused = await cli("chat", "Hi", "--history", str(history), *tutor)
    assert refused.exit_code == 1
    assert f"--history: {history} must hold a JSON list of {{role, content}} turns" in flat(
        refused.stderr
    )
    grade = await cli("chat", "Hi", "--mode", "shout", *tutor)
    assert grade.exit_code == 1 and "-> 422: --mode: Input should be" in flat(grade.stderr)

    tasks = await cli_json("bench", "tasks", *evals)
    suites = await cli_json("bench", "suites", *evals)
    assert {"gsm8k", "safety"} <= set(tasks) and tasks["gsm8k"]["scorer"] == "gsm8k"
    assert set(suites["quick"]["tasks"]) <= set(tasks)

    # --tasks a,b: lm-eval's spelling of a task list
    run = "bench", "run", "--model", "sim", "--tasks", "gsm8k,safety", "--limit", "3", "--seed", "1"
    first = await cli_json(*run, *evals)
    assert RUN_ID.match(first["id"]) and first["status"] == "queued"
    assert first["params"]["tasks"] == ["gsm8k", "safety"] and first["params"]["seed"] == 1
    await served_eval.work()

    shown = await cli_json("bench", "show", first["id"], *evals)
    assert shown["status"] == "succeeded" and shown["progress"] == {"done": 6, "total": 6}
    assert shown["metrics"]["gsm8k"]["accuracy"]["mean"] == 1.0
    listed = await cli_json("bench", "list", *evals)
    assert [r["id"] for r in listed] == [first["id"]]
    items = await cli_json("bench", "items", first["id"], "--task", "gsm8k", *evals)
    assert items["total"] == 3 and {i["verdict"] for i in items["items"]} == {"correct"}
    results = await cli_json("bench", "results", first["id"], *evals)
    assert results["run_id"] == first["id"]
    assert (await cli_json("jobs", "show", first["id"], *evals))["status"] == "succeeded"
    waited = await cli_json("jobs", "wait", first["id"], *evals)
    assert waited["id"] == first["id"]
    listed_jobs = await cli_json("jobs", "list", "--service", "eval-service", *evals)
    assert [j["id"] for j in listed_jobs] == [first["id"]]
    kinds = await cli_json("jobs", "kinds", "--service", "eval-service", *evals)
    assert kinds[0]["kind"] == "benchmark" and kinds[0]["submit"] == "POST /benchmarks"

    # --watch --json: the bar and "submitted" go to stderr, stdout is the final record only
    worker = asyncio.create_task(
        run_worker(eval_worker_settings(served_eval.settings), burst=False)
    )
    try:
        watched = await cli(
            *run, "--no-cache", "--error-threshold", "0.5", "--watch", *evals, "--json"
        )
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    assert watched.exit_code == 0, watched.output
    second = json.loads(watched.stdout)
    assert second["status"] == "succeeded" and second["progress"] == {"done": 6, "total": 6}
    assert second["params"]["no_cache"] is True and second["params"]["error_threshold"] == 0.5
    assert f"submitted {second['id']}" in watched.stderr
    report = await cli_json("bench", "compare", first["id"], second["id"], *evals)
    assert report["id"].startswith("cmp_") and "gsm8k.accuracy" in report["metrics"]
    made = await cli_json("bench", "comparisons", *evals)
    assert [(c["id"], c["baseline"], c["candidate"]) for c in made] == [
        (report["id"], first["id"], second["id"])
    ]
    again = await cli_json("bench", "comparison", report["id"], *evals)
    assert again["metrics"] == report["metrics"]

    # a narrow terminal folds other columns and keeps every id whole, on one line
    for args, ids in (
        (("bench", "list"), (first["id"], second["id"])),
        (("jobs", "list", "--service", "eval-service"), (first["id"], second["id"])),
        (("bench", "comparisons"), (report["id"],)),
    ):
        narrow = await cli(*args, *evals, columns=60)
        assert narrow.exit_code == 0, narrow.output
        lines = narrow.stdout.splitlines()
        assert max(len(line) for line in lines) <= 60, narrow.stdout
        for whole in ids:
            assert any(whole in line for line in lines), (args, whole, narrow.stdout)


async def test_errors_name_the_flags(served_eval: EvalServed) -> None:
    evals = ("--url", served_eval.evals)
    await served_eval.register_sim()
    unknown = await cli("bench", "run", "--model", "sim", "--tasks", "gsm8k,nosuch", *evals)
    assert unknown.exit_code == 1
    assert "-> 422: --tasks: unknown task(s) ['nosuch']" in flat(unknown.stderr)
    timeout = await cli(
        "bench", "run", "--model", "sim", "--suite", "quick", "--request-timeout", "0", *evals
    )
    assert timeout.exit_code == 1
    assert "-> 422: --request-timeout: Input should be greater than 0" in flat(timeout.stderr)
    missing = await cli("bench", "run", "--model", "nosuch", "--suite", "quick", *evals)
    assert missing.exit_code == 1 and "-> 404: --model: " in flat(missing.stderr)
    elsewhere = await cli(
        "bench", "run", "--model", "sim", "--suite", "quick", "--compare-to", "/etc/passwd", *evals
    )
    assert elsewhere.exit_code == 1 and "-> 422: --compare-to: " in flat(elsewhere.stderr)
    both = await cli("bench", "run", "--model", "sim", "--tasks", "quick,gsm8k", *evals)
    assert both.exit_code == 1 and "--tasks: quick is a suite" in flat(both.stderr)
    # a suite's name alone in --tasks selects that suite, as lm-eval's task groups do
    suite = await cli_json("bench", "run", "--model", "sim", "--tasks", "quick", *evals)
    assert suite["params"]["suite"] == "quick" and "tasks" not in suite["params"]
    # epochs and reducers, as inspect spells them; their 422s name the flags too
    sampled = ("bench", "run", "--model", "sim", "--tasks", "gsm8k", "--limit", "2")
    greedy = await cli(*sampled, "--epochs", "2", "--param", "temperature=0", *evals)
    assert greedy.exit_code == 1
    assert "-> 422: --param temperature: epochs=2 samples each item 2 times" in flat(greedy.stderr)
    too_big = await cli(*sampled, "--epochs", "2", "--reducers", "pass@5", *evals)
    assert too_big.exit_code == 1
    assert "--reducers: 'pass@5' needs k <= epochs (2)" in flat(too_big.stderr)
    epochs = await cli_json(
        *sampled, "--epochs", "3", "--epochs-reducer", "pass@1,maj@3", "--cache-epoch", "1",
        "--param", "temperature=0.7", *evals,
    )  # fmt: skip
    assert {k: epochs["params"][k] for k in ("epochs", "reducers", "cache_epoch")} == {
        "epochs": 3,
        "reducers": ["pass@1", "maj@3"],
        "cache_epoch": 1,
    }
    typo = await cli("bench", "run", "--model", "sim", "--suite", "quick", "--param", "tmp=1")
    assert typo.exit_code == 1
    assert f"known: {', '.join(KNOWN_PARAMS)}" in flat(typo.stderr)


def interrupt_second_poll(path: str) -> Callable[..., httpx.Response]:
    """``request`` that answers the first poll of ``path`` and is interrupted (Ctrl-C) in the
    second, as a user pressing Ctrl-C while the bar is drawn."""
    real = http_request
    polls = 0

    def request(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
        nonlocal polls
        if url == path:
            polls += 1
            if polls == 2:
                raise KeyboardInterrupt
        return real(http, method, url, **kwargs)

    return request


async def test_ctrl_c_while_watching_says_the_run_goes_on_and_how_to_cancel_it(
    served_eval: EvalServed, monkeypatch: pytest.MonkeyPatch
) -> None:
    evals = ("--url", served_eval.evals)
    await served_eval.register_sim()
    run = await cli_json("bench", "run", "--model", "sim", "--suite", "quick", *evals)
    run_id = run["id"]  # queued: no worker runs here
    with monkeypatch.context() as patch:
        patch.setattr(bench, "request", interrupt_second_poll(f"/benchmarks/{run_id}"))
        watched = await cli("bench", "show", run_id, "--watch", *evals)
    assert watched.exit_code == 130
    said = watched.stderr
    assert f"stopped watching; benchmark run {run_id} goes on." in said
    cancel = f"tutorlab bench cancel {run_id} --url {served_eval.evals}"
    assert f"cancel it:        {cancel}" in said
    assert f"follow it again:  tutorlab bench show {run_id} --url {served_eval.evals} --watch" in (
        said
    )
    assert (await cli_json("bench", "show", run_id, *evals))["status"] == "queued"  # goes on

    cancelled = await cli(*cancel.split()[1:])  # the command it printed, as printed
    assert cancelled.exit_code == 0, cancelled.output
    assert f"{run_id}: cancelled (cancel requested)" in cancelled.stdout
    assert (await cli_json("bench", "show", run_id, *evals))["status"] == "cancelled"


async def test_data_commands_as_json(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,
    dataset_mirror: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'data.db'}"
    await migrate("data-service", database_url)
    settings = data_settings(
        database_url, redis_url, dataset_mirror, tmp_path / "d", shared_hf_cache(tmp_path_factory)
    )
    with serve_in_thread(create_data_app(settings), "data-service") as url:
        data = ("--url", url)
        job = await cli_json(
            "data", "download", "--name", "gsm8k", "--source", "mirror", "--split", "test", *data
        )
        assert job["id"].startswith("dat_") and job["status"] == "queued"
        await run_worker(data_worker_settings(settings))
        done = await cli_json("jobs", "wait", job["id"], *data)
        assert done["status"] == "succeeded" and done["result"]["datasets"][0]["rows"] == 1319

        versions = await cli_json("data", "list", *data)
        assert [(v["name"], v["split"], v["rows"]) for v in versions] == [("gsm8k", "test", 1319)]
        card = await cli_json("data", "show", "gsm8k", "test", *data)
        assert card["current"]["id"] == versions[0]["id"] and card["counts"]["rows"] == 1319
        page = await cli_json("data", "items", "gsm8k", "test", "--limit", "2", *data)
        assert page["total"] == 1319 and len(page["items"]) == 2
        one = await cli_json("data", "item", "gsm8k", "test", page["items"][0]["id"], *data)
        assert one["question"] == page["items"][0]["question"]
        taxonomy = await cli_json("data", "taxonomy", *data)
        assert any(t["id"] == "arithmetic.percent" for t in taxonomy["topics"])

        lines = tmp_path / "mine.jsonl"
        write_jsonl(lines, SEED_LINES)
        report = await cli_json("data", "validate", str(lines))
        assert report["ok"] is True and report["n_valid"] == len(SEED_LINES)
        uploaded = await cli_json(
            "data", "upload", str(lines), "--name", "mine", "--allow-missing-references", *data
        )
        assert uploaded["id"].startswith("ts_") and uploaded["created"] is True
        assert [s["id"] for s in await cli_json("data", "sets", *data)] == [uploaded["id"]]
        shown = await cli_json("data", "set", uploaded["id"], *data)
        assert shown["id"] == uploaded["id"] and shown["card"]["builder"] == "upload"
        listed_jobs = await cli_json("jobs", "list", "--service", "data-service", *data)
        assert [j["id"] for j in listed_jobs] == [job["id"]]

        narrow = await cli("data", "sets", *data, columns=60)
        assert any(uploaded["id"] in line for line in narrow.stdout.splitlines()), narrow.stdout

        # Ctrl-C during --wait (no worker now: the job stays queued) leaves the job going
        tagging = await cli_json("data", "tag-dataset", "gsm8k", "test", *data)
        with monkeypatch.context() as patch:
            patch.setattr(jobs, "request", interrupt_second_poll(f"/jobs/{tagging['id']}"))
            waited = await cli("jobs", "wait", tagging["id"], *data)
        assert waited.exit_code == 130
        assert f"stopped watching; job {tagging['id']} goes on." in waited.stderr
        cancel = f"tutorlab jobs cancel {tagging['id']} --url {url}"
        assert f"cancel it:        {cancel}" in waited.stderr
        assert (await cli_json(*cancel.split()[1:]))["status"] == "cancelled"


TRAINING = """\
name: {name}
backend: simulated
model:
  base_model: qwen3:8b
data:
  train_file: data/socratic_train.jsonl
  eval_file: data/socratic_eval.jsonl
training:
  num_epochs: 1
  batch_size: 4
  learning_rate: 2e-4
  eval_every: 3
  max_length: 512
monitor: {{gsm8k_items: 1, tutoring_items: 1, max_tokens: 16}}
"""


async def test_training_commands_as_json(
    tmp_path: Path,
    redis_url: str,
    dataset_mirror: Path,
    qwen3_tokenizer_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tutor_db = f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"
    trainer_db = f"sqlite+aiosqlite:///{tmp_path / 'trainer.db'}"
    await migrate("tutor-api", tutor_db)
    await migrate("trainer-service", trainer_db)
    data_dir = tmp_path / "var"
    write_jsonl(data_dir / "data/socratic_train.jsonl", SEED_LINES)
    write_jsonl(data_dir / "data/socratic_eval.jsonl", SEED_LINES[::3])
    config = tmp_path / "configs" / "sft.yaml"  # its data files are the trainer's, not uploaded
    config.parent.mkdir()
    with served_tutor_api(tmp_path, tutor_db) as tutor_url:
        settings = trainer_settings(
            trainer_db,
            redis_url,
            data_dir,
            qwen3_tokenizer_dir,
            tutor_api_url=tutor_url,
            tinker_openai_base_url="http://127.0.0.1:9/v1",
            dataset_mirror=dataset_mirror,
        )
        with serve_in_thread(create_trainer_app(settings), "trainer-service") as url:
            trainer = ("--url", url)
            config.write_text(TRAINING.format(name=unique("sft")))
            submitted = await cli_json("train", "run", "--config", str(config), *trainer)
            training_id = submitted["id"]
            assert training_id.startswith("train_") and submitted["status"] == "queued"
            await run_trainer_worker(settings)

            run = await cli_json("train", "show", training_id, *trainer)
            assert run["job"]["status"] == "succeeded" and run["step"] == run["total_steps"] == 3
            assert [r["id"] for r in await cli_json("train", "list", *trainer)] == [training_id]
            steps = await cli_json("train", "metrics", training_id, *trainer)
            assert [m["step"] for m in steps] == [1, 2, 3]
            plain = await cli("train", "metrics", training_id, *trainer)
            assert [json.loads(line) for line in plain.stdout.splitlines()] == steps
            experiments = await cli_json("experiments", "list", *trainer)
            assert [e["id"] for e in experiments] == [training_id]
            experiment = await cli_json("experiments", "show", training_id, *trainer)
            assert experiment["id"] == training_id and "Simulated." in experiment["readme"]
            assert (await cli_json("jobs", "show", training_id, *trainer))["kind"] == "training"

            # Ctrl-C while following a queued run: it goes on; the printed cancel command works
            config.write_text(TRAINING.format(name=unique("sft")))
            queued = (await cli_json("train", "run", "--config", str(config), *trainer))["id"]
            with monkeypatch.context() as patch:
                patch.setattr(train, "request", interrupt_second_poll(f"/trainings/{queued}"))
                watched = await cli("train", "show", queued, "--watch", *trainer)
            assert watched.exit_code == 130
            assert f"stopped watching; training run {queued} goes on." in watched.stderr
            cancel = f"tutorlab train cancel {queued} --url {url}"
            assert f"cancel it:        {cancel}" in watched.stderr
            cancelled = await cli_json(*cancel.split()[1:])
            assert cancelled["id"] == queued and cancelled["job"]["status"] == "cancelled"

            narrow = await cli("train", "list", *trainer, columns=60)
            assert any(training_id in line for line in narrow.stdout.splitlines())


TASK_FILE = """\
name: word-problems
version: "1"
dataset:
  source: jsonl
  path: tasks/word_problems.jsonl
prompt:
  template: |-
    Solve the following math problem. Give the final answer in \\boxed{{}}.

    Problem: {{problem}}
fields:
  id: qid
  target: final
scorer: {scorer}
"""


async def test_a_task_file_in_tasks_is_registered_and_run(
    served_eval: EvalServed, tmp_path: Path, dataset_mirror: Path
) -> None:
    evals = ("--url", served_eval.evals)
    await served_eval.register_sim()
    records, _ = load_mirror(dataset_mirror, "gsm8k", "test")
    write_jsonl(
        tmp_path / "tasks" / "word_problems.jsonl",  # inside the eval-service's data directory
        [
            {"qid": f"wp-{i}", "problem": r.question, "final": r.answer}
            for i, r in enumerate(records[:3])
        ],
    )
    task_file = tmp_path / "my_task.yaml"
    task_file.write_text(TASK_FILE.format(scorer="gsm8k"))

    run = await cli_json(
        "bench", "run", "--model", "sim", "--tasks", f"{task_file},safety", "--limit", "2", *evals
    )
    assert run["params"]["tasks"] == ["word-problems", "safety"]
    await served_eval.work()
    shown = await cli_json("bench", "show", run["id"], *evals)
    assert shown["status"] == "succeeded", shown
    assert shown["metrics"]["word-problems"]["accuracy"]["mean"] == 1.0
    listed = await cli_json("bench", "tasks", *evals)
    assert listed["word-problems"]["custom"] is True
    one = await cli_json("bench", "task", "word-problems", *evals)
    assert one["definition"]["fields"]["id"] == "qid"
    table_view = await cli("bench", "tasks", *evals)
    assert re.search(r"word-problems\s+│ custom\s+│ gsm8k", table_view.stdout), table_view.stdout

    # the same file again changes nothing; a broken one is refused naming the file and field
    again = await cli("bench", "register-task", str(task_file), *evals)
    assert again.exit_code == 0 and "task word-problems 1 registered" in flat(again.stdout)
    task_file.write_text(TASK_FILE.format(scorer="nosuch").replace('"1"', '"2"'))
    broken = await cli("bench", "register-task", str(task_file), *evals)
    assert broken.exit_code == 1
    assert f"POST /tasks ({task_file}) -> 422: " in flat(broken.stderr)
    assert "scorer" in flat(broken.stderr), broken.stderr
