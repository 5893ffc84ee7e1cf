"""Rule scoring on degenerate replies, against the linear ideal; and what scoring off the event
loop costs an ordinary benchmark.

1. Each degenerate reply (thousands of ``\\boxed{`` or braces, cues such as ``####`` repeated,
   unclosed ``\\[``, one huge answer, a seeded mix of all of them), at 35 KB and 1 MB, scored by
   every task scorer (``score_task``; ``math`` without math-verify, which has its own per-item
   timeout in its process pool). Each time is set against the linear ideal: the time one simple
   regex takes to read the same bytes once (``[^\\x00]*``), so "x ideal" says how many such passes
   the scorer's work is worth; linear scorers keep the same multiple at 35 KB and at 1 MB.
   Target (issue #12.10): every reply within ``--bound-s`` seconds per MB (at least that much
   for a shorter one) for each scorer.
2. While the 1 MB mix is scored on the scoring thread (:mod:`tutorlab.scoring.offload`), the
   event loop's lag: a 10 ms ticker's worst delay (what ``/healthz`` and heartbeats would wait).
3. GSM8K test's 1,319 reference solutions as replies, scored in the fan-out's batches of 64 on
   the loop (``score_task``) and on the scoring thread (``score_batch``): the cost per item of
   the offload (issue #11.8: an ordinary run must not slow down).

Run: ``make bench-scoring`` or ``uv run python bench/scoring_degenerate.py [--sizes 35000,1000000]``
(``--bound-s``: the seconds a scorer may take per MB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import time
from pathlib import Path

from tutorlab.scoring.offload import on_scoring_thread, score_batch
from tutorlab.scoring.tasks import TASK_SCORERS, ScoreInput, score_task

ROOT = Path(__file__).resolve().parents[1]
GOLD = "18"
CONTEXT = ["Janet has 16 eggs and buys 2 more. How many eggs does she have?"]
#: the linear ideal: one pass of a simple regex over the same bytes
SCAN = re.compile(r"[^\x00]*")

UNITS: dict[str, str] = {
    "open_boxed": "\\boxed{",
    "closed_boxed": "\\boxed{1} ",
    "open_braces": "{",
    "close_braces": "}",
    "hash_cues": "#### ",
    "answer_is": "The answer is ",
    "final_answer": "Final answer: ",
    "open_display": "\\[",
    "open_inline": "\\(",
    "dollars": "$$",
    "equations": "1+2=3 ",
    "digits": "7",
    "newlines": "\n",
}


def degenerate(name: str, size: int) -> str:
    """The degenerate reply ``name`` of ``size`` characters."""
    if name == "nested_boxed":
        depth = size // 8
        return "\\boxed{" * depth + "1" + "}" * depth
    if name == "huge_answer":
        return "The answer is \\boxed{" + ("x+1 " * size)[: size - 22] + "}"
    if name == "mix":
        rng = random.Random(0)
        units = [*UNITS.values(), "so we get ", "? ", " 42 ", "\n\n"]
        parts: list[str] = []
        length = 0
        while length < size:
            part = rng.choice(units) * rng.randint(1, 200)
            parts.append(part)
            length += len(part)
        return "".join(parts)[:size]
    unit = UNITS[name]
    return (unit * (size // len(unit) + 1))[:size]


NAMES = [*UNITS, "nested_boxed", "huge_answer", "mix"]


def scanned_in(text: str, repeat: int = 5) -> float:
    """The best time of ``repeat`` passes of the ideal regex over ``text``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        SCAN.match(text)
        times.append(time.perf_counter() - start)
    return min(times)


async def scored_in(scorer: str, reply: str, repeat: int) -> float:
    """The best time of ``repeat`` scorings of ``reply`` (on this loop: the CPU alone)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await score_task(scorer, [ScoreInput(reply, GOLD, CONTEXT)], None)
        times.append(time.perf_counter() - start)
    return min(times)


async def degenerate_table(sizes: list[int], bound_s: float) -> bool:
    print(f"1. degenerate replies, seconds per task scorer ({', '.join(TASK_SCORERS)})")
    print(f"   vs the linear ideal (one regex pass over the bytes); bound {bound_s:g} s per MB")
    header = "   " + f"{'reply':14s}{'size':>10s}{'scan ms':>9s}"
    print(header + "".join(f"{s:>13s}" for s in TASK_SCORERS) + f"{'worst x ideal':>15s}")
    ok = True
    for name in NAMES:
        for size in sizes:
            reply = degenerate(name, size)
            ideal = scanned_in(reply)
            repeat = 1 if size > 100_000 else 3
            times = [await scored_in(scorer, reply, repeat) for scorer in TASK_SCORERS]
            allowed = bound_s * max(1.0, size / 1_000_000)
            slow = [t for t in times if t > allowed]
            ok = ok and not slow
            cells = "".join(f"{t:13.3f}" for t in times)
            worst = f"{max(times) / ideal:15,.0f}" + ("  OVER THE BOUND" if slow else "")
            print(f"   {name:14s}{size:>10,}{ideal * 1000:9.2f}{cells}{worst}", flush=True)
    return ok


async def loop_lag_while_scoring(reply: str) -> tuple[float, float]:
    """(seconds the scoring took, worst delay of a 10 ms ticker on this loop meanwhile)."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            worst = max(worst, time.perf_counter() - start - 0.01)

    ticking = asyncio.create_task(ticker())
    start = time.perf_counter()
    for scorer in TASK_SCORERS:
        await score_batch(scorer, [ScoreInput(reply, GOLD, CONTEXT)], None)
    took = time.perf_counter() - start
    done.set()
    await ticking
    return took, worst


def gsm8k_replies() -> list[ScoreInput]:
    mirror = Path(os.environ.get("TUTORLAB_DATASET_MIRROR", ROOT.parent / "shared" / "datasets"))
    path = mirror / "gsm8k" / "test.jsonl"
    if not path.exists():
        rng = random.Random(1)
        return [
            ScoreInput(f"She has {rng.randint(1, 99)} apples. #### {n}", str(n))
            for n in range(1319)
        ]
    items = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        items.append(ScoreInput(row["answer"], row["answer"].rsplit("####", 1)[-1].strip()))
    return items


async def batches(items: list[ScoreInput], offloaded: bool, size: int = 64) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) to score ``items`` in batches of ``size``."""
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(0, len(items), size):
        part = items[i : i + size]
        if offloaded:
            await score_batch("gsm8k", part, None)
        else:
            await score_task("gsm8k", part, None)
    return time.process_time() - cpu, time.perf_counter() - wall


async def offload_cost(repeat: int) -> None:
    items = gsm8k_replies()
    await on_scoring_thread(asyncio.sleep(0))  # the thread's start, paid once per process
    inline, offloaded = [], []
    for _ in range(repeat):
        inline.append(await batches(items, offloaded=False))
        offloaded.append(await batches(items, offloaded=True))
    print(f"3. GSM8K test replies ({len(items):,}) in batches of 64, best of {repeat}:")
    for label, index in (("CPU", 0), ("wall", 1)):
        a = min(run[index] for run in inline)
        b = min(run[index] for run in offloaded)
        print(
            f"   {label:4s} on the loop {a * 1000:6.1f} ms, on the scoring thread {b * 1000:6.1f}"
            f" ms: {(b - a) / len(items) * 1e6:+.1f} µs per item ({b / a:.2f}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="35000,1000000", help="reply sizes, comma-separated")
    parser.add_argument("--bound-s", type=float, default=2.0, help="seconds per MB per scorer")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the GSM8K comparison")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ok = asyncio.run(degenerate_table(sizes, args.bound_s))
    took, lag = asyncio.run(loop_lag_while_scoring(degenerate("mix", max(sizes))))
    print(
        f"2. scoring the {max(sizes):,}-character mix on the scoring thread took {took:.2f} s; "
        f"the event loop's worst lag meanwhile {lag * 1000:.1f} ms"
    )
    asyncio.run(offload_cost(args.repeat))
    print("degenerate replies:", "all within the bound" if ok else "SOME OVER THE BOUND")


if __name__ == "__main__":
    main()
