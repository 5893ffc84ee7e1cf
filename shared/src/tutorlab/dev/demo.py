"""``make demo``: the whole loop, locally, against the built-in simulator and the simulated
training backend: register the simulator, one tutoring chat per mode, the baseline quick
benchmark, a small Socratic training set, a few SFT steps, the trained sampler registered and
benchmarked, and the paired comparison with the baseline. Every simulated step says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from tutorlab.cli.bench import metrics_table, print_comparison
from tutorlab.cli.train import print_training, watch
from tutorlab.dev.devstack import Stack, ports_from_env

console = Console()
FINAL = ("succeeded", "failed", "cancelled")


def main() -> int:
    # a TERM (from `timeout`, a supervisor) unwinds like Ctrl-C, so the stack stops its processes
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    home = Path(os.environ.get("TUTORLAB_HOME", "var/demo")).resolve()
    mirror = dataset_mirror(home)
    if isinstance(mirror, int):
        return mirror
    ports = ports_from_env(os.environ)
    stack = Stack(
        root=home,
        redis_url=os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
        dataset_mirror=mirror,
        ports=ports,
        env={"TUTORLAB_QUEUE_PREFIX": os.environ.get("TUTORLAB_QUEUE_PREFIX", "tutorlab-demo")},
    )
    console.rule("TutorLab demo")
    console.print(f"starting services, workers and the simulator (logs in {home / 'logs'}) …")
    started = time.monotonic()
    try:
        stack.start()
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]the stack did not start: {exc}[/red]")
        return 1
    with stack:
        console.print(
            f"ready in {time.monotonic() - started:.1f} s: "
            + ", ".join(f"{name} :{port}" for name, port in ports.items())
        )
        headers = {}
        if os.environ.get("TUTORLAB_API_KEY"):
            headers["Authorization"] = f"Bearer {os.environ['TUTORLAB_API_KEY']}"
        tutor = httpx.Client(base_url=stack.url("tutor-api"), headers=headers, timeout=60)
        evals = httpx.Client(base_url=stack.url("eval-service"), headers=headers, timeout=60)

        console.rule("1. register the simulator as a model (kind ollama)")
        tutor.delete("/models/sim-qwen3")
        response = tutor.post(
            "/models",
            json={
                "name": "sim-qwen3",
                "kind": "ollama",
                "base_url": stack.url("simulator"),
                "model": "qwen3:8b",
                "max_concurrency": 16,
                "metadata": {"note": "built-in simulator, not a real model"},
            },
        )
        response.raise_for_status()
        tutor.post("/models/sim-qwen3/activate").raise_for_status()
        console.print_json(data=tutor.post("/models/sim-qwen3/probe").json())

        console.rule("2. the tutor, one turn per mode")
        question = "Tom has 3 bags with 4 apples each. He eats 2. How many apples are left?"
        for mode in ("hint", "explain", "check", "solve"):
            message = question if mode != "check" else f"{question} I got 14."
            reply = tutor.post("/chat", json={"message": message, "mode": mode, "grade": 3})
            reply.raise_for_status()
            body = reply.json()
            console.print(f"[bold]{mode}[/bold] ({body['latency_ms']:.0f} ms): {body['reply']}")

        # the data-service holds the datasets (the training-set builder and its contamination
        # check read them), so the baseline and the trained model's benchmark read the same
        # versions
        data = httpx.Client(base_url=stack.url("data-service"), headers=headers, timeout=120)
        for name in ("gsm8k", "math"):
            job = data.post("/datasets/download", json={"name": name, "source": "mirror"})
            job.raise_for_status()
            _wait(data, job.headers["location"])

        console.rule("3. the quick benchmark (10 items per task) as a job")
        run = evals.post(
            "/benchmarks", json={"model": "sim-qwen3", "suite": "quick", "label": "sim-qwen3-demo"}
        )
        run.raise_for_status()
        run_id = run.json()["id"]
        console.print(f"POST /benchmarks -> 202, Location {run.headers['location']}")
        console.print(
            f"GET {run.headers['location']}?wait_s=30 (a long poll: answers when it ends)"
        )
        while True:
            state = evals.get(f"/benchmarks/{run_id}", params={"wait_s": 30}, timeout=60).json()
            if state["status"] in ("succeeded", "failed", "cancelled"):
                break
        console.print(metrics_table(state["metrics"], title=f"{run_id}: {state['status']}"))
        result = state.get("result") or {}
        if result.get("results_path"):
            console.print(f"results: {result['results_path']}")
        if state["status"] != "succeeded":
            console.print(f"[red]{state.get('error')}[/red]")
            return 1
        return train_and_compare(stack, headers, run_id)
    return 0


#: ``data_service.hub_mirror``'s exit status when there is neither a mirror nor the hub
NO_DATASET_SOURCE = 3


def dataset_mirror(home: Path) -> Path | int:
    """The GSM8K + MATH mirror every process reads: ``TUTORLAB_DATASET_MIRROR`` when set, else
    one the data-service downloads from the Hugging Face hub into the demo's data directory
    (once; later runs find it). An int is the demo's exit status when there is none."""
    configured = os.environ.get("TUTORLAB_DATASET_MIRROR")
    if configured:
        if not (Path(configured) / "gsm8k" / "test.jsonl").is_file():
            console.print(
                "[red]TUTORLAB_DATASET_MIRROR must point at a directory with gsm8k/ and math/ "
                f"JSONL files (got {configured!r}).[/red]"
            )
            return 2
        return Path(configured)
    data_dir = home / "var"
    into = data_dir / "datasets"
    console.print(
        f"TUTORLAB_DATASET_MIRROR is not set: GSM8K and MATH from the Hugging Face hub into {into} "
        "(downloaded once, then reused) …",
        highlight=False,
    )
    done = subprocess.run(
        [sys.executable, "-m", "data_service.hub_mirror", "--into", str(into)],
        env={**os.environ, "TUTORLAB_DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        return into
    # the data-service's own sentence, as it is (one line, no markup)
    print(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "", file=sys.stderr)
    return 2 if done.returncode == NO_DATASET_SOURCE else 1


#: a few SFT steps on the simulated backend: small enough for a laptop, labelled as simulated
DEMO_TRAINING = """\
name: demo-sft
backend: simulated   # the in-memory model that really learns; 'tinker' trains for real
model:
  base_model: qwen3:8b
data:
  train_file: {set_id}
training:
  num_epochs: 2
  batch_size: 16
  learning_rate: 5e-4
  max_steps: 12
  eval_every: 4
  save_every: 6
  max_length: 1024
monitor: {{gsm8k_items: 8, tutoring_items: 8, max_tokens: 64}}
benchmark_after:
  suite: quick
  compare_to: {baseline}
"""


def _wait(client: httpx.Client, path: str, timeout_s: float = 900) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(path, params={"wait_s": 30}, timeout=60).json()
        if (body.get("status") or body.get("job", {}).get("status")) in FINAL:
            return body
    raise TimeoutError(f"{path} did not finish in {timeout_s:.0f} s: see the logs")


def train_and_compare(stack: Stack, headers: dict[str, str], baseline: str) -> int:
    data = httpx.Client(base_url=stack.url("data-service"), headers=headers, timeout=120)
    trainer = httpx.Client(base_url=stack.url("trainer-service"), headers=headers, timeout=60)

    console.rule("4. a small Socratic training set (data-service)")
    build = data.post("/training-sets/build/socratic", json={"max_problems": 60})
    build.raise_for_status()
    built = _wait(data, build.headers["location"])
    if built["status"] != "succeeded":
        console.print(f"[red]{built.get('error')}[/red]")
        return 1
    set_id = built["result"]["training_set"]
    console.print(
        f"training set {set_id}: {built['result']['train']} train / {built['result']['eval']} "
        "eval examples"
    )

    console.rule("5. SFT, a few steps [SIMULATED backend, not Tinker]")
    config = DEMO_TRAINING.format(set_id=set_id, baseline=baseline)
    console.print(config, markup=False, highlight=False)
    submitted = trainer.post(
        "/trainings", content=config.encode(), headers={"content-type": "application/yaml"}
    )
    submitted.raise_for_status()
    training_id = submitted.json()["id"]
    run = watch(training_id, stack.url("trainer-service"))
    print_training(run)
    if run["job"]["status"] != "succeeded":
        return 1

    console.rule("6. trained vs baseline [SIMULATED: the pipeline, not a model]")
    folder = Path(run["experiment"])
    comparison = folder / "comparison.json"
    if comparison.is_file():
        print_comparison(json.loads(comparison.read_text()))
    else:
        console.print("[yellow]no comparison was written (see the experiment README)[/yellow]")
    console.print(f"experiment: {folder} (README.md, config.yaml, metrics.jsonl, …)")
    console.rule("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
