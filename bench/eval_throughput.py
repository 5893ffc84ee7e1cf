"""Eval throughput: GSM8K test (1,319 items) through the real services against the simulator.

Starts every service, worker and the simulator as processes (tutorlab.dev.devstack), sets the
simulator to a fixed latency, and for each concurrency reports submit-to-done wall time against
the floor ceil(items / concurrency) × latency, CPU ms per item summed over the TutorLab processes
(services + workers, not the simulator), peak RSS, and a warm-cache re-run.

Targets (issue #3): ≤ 1.15× floor at c=64, ≤ 1.5× at c=256, ≤ 1 ms CPU per item, warm ≥ 50× faster
than cold. Two warm re-runs follow each cold run: the same request (it reuses the cold run's scored
items, see eval_service.reuse) and the same with ``rescore`` (every cached reply looked up, scored
and stored again).
Run: ``make bench`` or ``uv run python bench/eval_throughput.py [--latency-ms 200]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import tempfile
import time
from pathlib import Path

import httpx
from tutorlab.dev.devstack import SERVICES, Stack, free_ports

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its live children (the worker's math-verify pool)."""
    total = cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(FileNotFoundError):  # it just ended
                total += tree_cpu_seconds(int(child))
    return total


def wait_until_idle(pids: list[int], timeout_s: float = 180.0) -> float:
    """Seconds until the processes (and their children) together stay under 5% of a core for
    half a second: the math-verify pool imports sympy in the background for a while after the
    worker starts, and a measurement taken meanwhile shares the two cores with it."""
    started = time.perf_counter()
    last = sum(tree_cpu_seconds(pid) for pid in pids)
    while time.perf_counter() - started < timeout_s:
        time.sleep(0.5)
        now = sum(tree_cpu_seconds(pid) for pid in pids)
        if now - last < 0.025:
            break
        last = now
    return time.perf_counter() - started


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_once(
    stack: Stack, evals: httpx.Client, body: dict, procs: dict[str, int], sim_pid: int = 0
) -> dict:
    """Submit, then wait for the run with a long poll (``?wait_s=``): the answer comes when the
    run ends, so the wall time is exact and the API spends no CPU on repeated polls."""
    before = {name: cpu_seconds(pid) for name, pid in procs.items()}
    sim_before = cpu_seconds(sim_pid) if sim_pid else 0.0
    started = time.perf_counter()
    response = evals.post("/benchmarks", json=body)
    response.raise_for_status()
    location = response.headers["location"]
    while True:
        run = evals.get(location, params={"wait_s": 60}, timeout=90).json()
        if run["status"] in ("succeeded", "failed", "cancelled"):
            break
    wall = time.perf_counter() - started
    cpu = {name: cpu_seconds(pid) - before[name] for name, pid in procs.items()}
    sim_cpu = cpu_seconds(sim_pid) - sim_before if sim_pid else 0.0
    if run["status"] != "succeeded":
        raise SystemExit(f"run failed: {run.get('error')}")
    items = run["progress"]["total"]
    return {"run": run, "wall": wall, "cpu": cpu, "items": items, "sim_cpu": sim_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--mirror", default=os.environ.get("TUTORLAB_DATASET_MIRROR"))
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://localhost:6379/0")
    )
    args = parser.parse_args()
    if not args.mirror:
        raise SystemExit("set TUTORLAB_DATASET_MIRROR (GSM8K/MATH mirror directory)")

    root = Path(tempfile.mkdtemp(prefix="tutorlab-bench-"))
    ports = free_ports([*SERVICES, "simulator"])
    stack = Stack(
        root=root,
        redis_url=args.redis_url,
        dataset_mirror=Path(args.mirror),
        ports=ports,
        env={"TUTORLAB_QUEUE_PREFIX": f"bench{os.getpid()}", "TUTORLAB_LOG_LEVEL": "WARNING"},
        sim_env={
            "TUTORLAB_SIM_LATENCY_MS": str(args.latency_ms),
            "TUTORLAB_SIM_LATENCY_DIST": "fixed",
        },
        workers={"eval-worker": 1, "data-worker": 0, "trainer-worker": 0},
    )
    with (
        stack,
        httpx.Client(base_url=stack.url("tutor-api"), timeout=30) as tutor,
        httpx.Client(base_url=stack.url("eval-service"), timeout=30) as evals,
    ):
        procs = {
            name: proc.pid
            for name, proc in stack.procs.items()
            if name in ("tutor-api", "eval-service", "eval-worker")
        }
        print(f"latency {args.latency_ms:.0f} ms fixed; processes measured: {', '.join(procs)}")
        # warm-up (not measured): the worker finishes starting (imports, math-verify pool)
        tutor.post(
            "/models",
            json={
                "name": "warmup",
                "kind": "openai",
                "model": "qwen3:8b",
                "base_url": stack.url("simulator") + "/v1",
            },
        ).raise_for_status()
        started = time.perf_counter()
        run_once(stack, evals, {"model": "warmup", "tasks": ["gsm8k"], "limit": 8}, procs)
        print(f"warm-up job (worker start-up included): {time.perf_counter() - started:.2f} s")
        stack_pids = [proc.pid for proc in stack.procs.values()]
        wait_until_idle(stack_pids)
        print(
            f"worker idle (math-verify pool warm) {time.perf_counter() - started:.2f} s after start"
        )
        print(
            f"{'run':<22}{'items':>6}{'wall s':>9}{'floor s':>9}{'ratio':>8}"
            f"{'CPU ms/item':>13}{'items/s':>9}"
        )
        for index, concurrency in enumerate(args.concurrency):
            name = f"sim-{index}-c{concurrency}"
            tutor.post(
                "/models",
                json={
                    "name": name,
                    "kind": "openai",
                    "base_url": stack.url("simulator") + "/v1",
                    "model": "qwen3:8b",
                    "max_concurrency": concurrency,
                },
            ).raise_for_status()
            # a fresh cache epoch per measurement: the cold run really calls the model
            epoch = int(time.time() * 1000) % 1_000_000_000 + concurrency
            body = {
                "model": name,
                "tasks": ["gsm8k"],
                "label": f"bench-c{concurrency}",
                "cache_epoch": epoch,
            }
            wait_until_idle(stack_pids)  # every measurement starts from an idle stack
            cold = run_once(stack, evals, body, procs, stack.procs["simulator"].pid)
            floor = math.ceil(cold["items"] / concurrency) * args.latency_ms / 1000
            cpu_ms = sum(cold["cpu"].values()) * 1000 / cold["items"]
            print(
                f"{'cold c=' + str(concurrency):<22}{cold['items']:>6}{cold['wall']:>9.2f}"
                f"{floor:>9.2f}{cold['wall'] / floor:>8.2f}{cpu_ms:>13.3f}"
                f"{cold['items'] / cold['wall']:>9.0f}"
            )
            latency = json.loads(Path(cold["run"]["result"]["results_path"]).read_text())["timing"][
                "latency_ms"
            ]
            print(
                f"  request latency seen by the worker (ms): p50 {latency['p50']}, "
                f"p95 {latency['p95']} (the simulator holds each reply {args.latency_ms:.0f} ms)"
            )
            for label, warm_body in (
                # the same request again: it copies the cold run's scored items
                ("warm (reused)", body),
                # every cached reply looked up, scored (memoized) and stored again, one by one
                ("warm (rescored)", {**body, "rescore": True}),
            ):
                wait_until_idle(stack_pids)
                warm = run_once(stack, evals, warm_body, procs)
                warm_cpu = sum(warm["cpu"].values()) * 1000 / warm["items"]
                cached = warm["run"]["result"]["counts"]["cached"]
                print(
                    f"{label + ' c=' + str(concurrency):<22}{warm['items']:>6}"
                    f"{warm['wall']:>9.2f}{'':>9}{'':>8}{warm_cpu:>13.3f}"
                    f"{warm['items'] / warm['wall']:>9.0f}"
                    f"   {cold['wall'] / warm['wall']:.0f}x faster than cold, {cached} cached"
                )
                results = json.loads(Path(warm["run"]["result"]["results_path"]).read_text())
                print(
                    "  phases in the worker (s): "
                    + ", ".join(f"{k} {v}" for k, v in results["timing"]["phases"].items())
                    + (f"; reused run {results['reused_from']}" if "reused_from" in results else "")
                )
            print(
                "  CPU by process (ms/item): "
                + ", ".join(f"{n} {v * 1000 / cold['items']:.3f}" for n, v in cold["cpu"].items())
                + f"; the simulator (not counted) {cold['sim_cpu'] * 1000 / cold['items']:.3f}"
            )
        print(
            "peak RSS MB: "
            + ", ".join(f"{name} {peak_rss_mb(pid):.0f}" for name, pid in procs.items())
        )


if __name__ == "__main__":
    main()
