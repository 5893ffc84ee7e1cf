"""``make demo``: start TutorLab locally against the built-in simulator and show a real round trip:
register the simulator, one tutoring chat per mode, a job, and the quick benchmark's summary."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import httpx
from rich.console import Console

from tutorlab.cli.bench import metrics_table
from tutorlab.dev.devstack import SERVICES, SIMULATOR_PORT, Stack
from tutorlab.settings import DEFAULT_PORTS

console = Console()


def _port(prefix: str, default: int) -> int:
    return int(os.environ.get(f"{prefix}PORT", default))


def main() -> int:
    mirror = os.environ.get("TUTORLAB_DATASET_MIRROR")
    if not mirror or not (Path(mirror) / "gsm8k" / "test.jsonl").is_file():
        console.print(
            "[red]TUTORLAB_DATASET_MIRROR must point at a directory with gsm8k/ and math/ "
            f"JSONL files (got {mirror!r}).[/red]"
        )
        return 2
    home = Path(os.environ.get("TUTORLAB_HOME", "var/demo")).resolve()
    ports = {name: _port(prefix, DEFAULT_PORTS[name]) for name, (_, prefix) in SERVICES.items()}
    ports["simulator"] = int(os.environ.get("TUTORLAB_SIM_PORT", SIMULATOR_PORT))
    stack = Stack(
        root=home,
        redis_url=os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
        dataset_mirror=Path(mirror),
        ports=ports,
        env={"TUTORLAB_QUEUE_PREFIX": "tutorlab-demo"},
    )
    console.rule("TutorLab demo")
    console.print(f"starting services, workers and the simulator (logs in {home / 'logs'}) …")
    started = time.monotonic()
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
    console.rule("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
