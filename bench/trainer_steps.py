"""Trainer step throughput: SFT and RLVR steps on the simulated backend at fixed latencies, each
against the ideal where the trainer adds nothing; and the rendering of the full Socratic set.

Everything the trainer touches is real: a migrated SQLite database with a claimed ``training`` job
(:class:`JobStore`) and the run's :class:`RunStore`, an experiment folder, the price table, the
Qwen3 renderer, the shared scorers and the math-verify process pool. The loops are the trainer's
own ``run_sft`` and ``run_rlvr`` through a :class:`TrainingSession` reporting progress on the job
row as ``TrainingJob`` does. Only the server is simulated: :class:`SimulatedBackend` holds each
request for a fixed latency while its numpy model computes in a thread, one request at a time
per run, in submission order (as Tinker runs one run's requests).

1. **SFT**: ``--sft-steps`` steps of ``--batch-size`` rendered Socratic examples (built from GSM8K
   train as the data-service's ``build_socratic`` job builds them, see ``trainer_render.py``).
   Ideal = steps × (forward_backward + optim_step): the server runs them in order, so that is its
   busy time when the trainer never lets it idle. Target ≤ 1.05×.
2. **RLVR**: one step of 64 problems × 8 samples (``max_tokens`` 512), GSM8K train (a quarter in
   hint mode, as ``configs/rlvr.yaml``) and MATH train (solve only; rewards through the
   math-verify pool). Ideal = sampling + forward_backward + optim_step latencies: the 64 sample
   requests are concurrent (as on Tinker), then one training step. Target ≤ 1.10×, rewards
   included. A fresh run per measurement, each on a different batch of problems (so no cache of
   the scorers or of math-verify has seen its replies).
3. **Rendering**: ``Renderer.render_examples`` over the whole Socratic set (~21k examples), timed
   as ``trainer_render.py`` times it. Target ≤ 15 s.

Latencies (defaults; all options): forward_backward 1.6 s and optim_step 0.4 s for an SFT step
of 128 examples — Tinker trains in clock cycles of ~10 s, each one forward-backward and one
optimizer step; this is that cycle scaled down 5×, with Adam over the rank-32 LoRA weights a
quarter of it (it touches ~0.5% of the 8B weights but still costs a pass over them and its own
scheduling). Shorter latencies would not measure the trainer: the simulator's own numpy
forward-backward for 128 Socratic examples takes 0.25-0.5 s here and grows as its model learns
more tokens. RLVR: forward_backward 3.2 s + optim_step 0.4 s for its 4× larger batch (~500
sequences of 500-600 tokens; the simulator computes it in 1.0-2.4 s), and sampling both 4 s
and 8 s a request (``--sample-s``): the top of the 2-4 s a team might hope for, and what 8
samples of up to 512 tokens from an 8B model plausibly take on a busy server. The simulator
samples 8 × 512 tokens in ~40 ms of GIL-bound numpy; the bench gives it one thread (see
``run``), so its 64 concurrent requests need ~2.7 s of CPU, inside either latency. A
first pass with zero latencies measures the simulator's compute, printed beside the latencies
(and a warning where it nears one). The RLVR phases: prompts (rendering, budget, sampler),
sampling (to the first reply: all requests share one latency), rewards+datums (the rest of the
replies decoded and scored, math-verify included, datums built and submitted: the trainer's
tail), training, record (metrics row, experiment file, job progress).

RLVR replies are scripted: the simulated model, untrained, samples random tokens (which neither
score nor train like replies: random 512-token sequences touch ~120k distinct tokens, more than
the simulator's dense model can hold). So each sample request still goes to the simulator
(its latency and its sampling CPU are spent as they would be), and its sequences are then
replaced by a worked solution of that problem — right, wrong (another final answer), unboxed or
cut at ``max_tokens`` — with the uniform logprob the untrained model gives every token. Solve
replies run 96-560 tokens before the cut (a fifth to a quarter hit the 512 cap), hint replies
48-256; each problem has its own success rate, so some groups are constant and skipped, as in a
real GRPO batch.

Run: ``make bench-trainer`` or ``uv run python bench/trainer_steps.py [--repeat 3]
[--parts sft rlvr math render]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine
from tinker import types
from trainer_service.backends import SimulatedBackend, SimulatedLatencies, SimulatedRun
from trainer_service.backends.protocol import LossFn, Sampler
from trainer_service.backends.simulated import QWEN3_VOCAB_SIZE
from trainer_service.experiment import Experiment
from trainer_service.methods.rl import OnPolicySettings, problem_messages, rl_steps, run_rlvr
from trainer_service.methods.sft import SftSettings, run_sft, sft_steps
from trainer_service.prices import PriceTable
from trainer_service.rendering import Renderer
from trainer_service.rewards import Problem, RewardWeights
from trainer_service.run_store import RunStore
from trainer_service.session import TrainingSession
from tutorlab.curriculum.training_format import Example, parse_example
from tutorlab.datasets.mirror import load_mirror
from tutorlab.datasets.records import DatasetRecord
from tutorlab.db import create_engine, session_factory
from tutorlab.jobs.runtime import JobContext
from tutorlab.jobs.store import JobStore
from tutorlab.migrations import upgrade
from tutorlab.scoring.mathverify import MathVerifier
from tutorlab.service.runner import version_table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trainer_render import TARGET_S as RENDER_TARGET_S
from trainer_render import socratic_lines

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = ROOT / "services/trainer-service/src/trainer_service/migrations"
BASE_MODEL = "Qwen/Qwen3-8B"
WORKER = f"bench:{os.getpid()}"
SFT_TARGET, RL_TARGET = 1.05, 1.10
#: the logprob the untrained simulated model gives every token (it is uniform)
UNIFORM_LOGPROB = -math.log(QWEN3_VOCAB_SIZE)


# ---------------------------------------------------------------- the real stores around a run


@dataclass
class Harness:
    """A migrated trainer database (jobs, metrics, checkpoints) and an experiments folder."""

    root: Path
    engine: AsyncEngine
    jobs: JobStore
    runs: RunStore
    pricing: Any

    @classmethod
    async def create(cls, root: Path) -> Harness:
        url = f"sqlite+aiosqlite:///{root / 'trainer.db'}"
        await asyncio.to_thread(upgrade, MIGRATIONS, url, version_table("trainer-service"))
        engine = create_engine(url)
        sessions = session_factory(engine)
        pricing = PriceTable.default().price_for(BASE_MODEL)
        return cls(root, engine, JobStore(sessions, "train"), RunStore(sessions), pricing)

    async def session(self, run: Any, method: str, total_steps: int) -> TrainingSession:
        """A session on a claimed job, reporting each step on the job row as the job does."""
        job, _ = await self.jobs.create("training", {"bench": method, "id": uuid.uuid4().hex})
        claimed = await self.jobs.claim(job.id, WORKER, stale_after_s=300)
        assert claimed is not None
        ctx = JobContext(job=claimed, params=None, store=self.jobs, worker_id=WORKER, resources={})
        experiment = Experiment(self.root / "experiments", method, f"bench-{job.id[-8:]}")
        session = TrainingSession(
            ctx=ctx,
            run=run,
            store=self.runs,
            experiment=experiment,
            pricing=self.pricing,
            total_steps=total_steps,
            save_every=0,
            checkpoint_ttl_s=604_800,
            max_cost_usd=1_000.0,
        )

        async def on_progress(step: int, metrics: dict[str, Any]) -> None:
            # what TrainingJob._on_step writes: progress and the partial result
            partial = {
                "phase": "training",
                "cost_usd": round(session.totals.cost_usd, 6),
                "totals": session.totals.as_dict(),
                "experiment": str(experiment.path),
            }
            await self.jobs.set_progress(ctx.job_id, step, total_steps, partial)

        session.on_progress = on_progress
        return session

    def backend(self, latencies: SimulatedLatencies) -> SimulatedBackend:
        return SimulatedBackend(self.root / "sim-state", latencies=latencies)


# ---------------------------------------------------------------- an observed (scripted) run


@dataclass
class Observed:
    """What the bench records around the backend: submit calls and sample requests."""

    #: (op, seconds the submit call took: the simulator validates the datums there)
    submits: list[tuple[str, float]] = field(default_factory=list)
    #: (start, end) of every sample request, time.monotonic()
    samples: list[tuple[float, float]] = field(default_factory=list)


Reply = tuple[list[int], types.StopReason]


class ScriptedSampler:
    """The simulator's sampler, whose sequences are replaced by scripted replies (see the module
    docstring); the request's latency and CPU are the simulator's."""

    def __init__(
        self, inner: Sampler, replies: dict[tuple[int, ...], list[Reply]], seen: Observed
    ) -> None:
        self.inner = inner
        self.replies = replies
        self.seen = seen

    async def sample(
        self, prompt: types.ModelInput, num_samples: int, params: types.SamplingParams
    ) -> types.SampleResponse:
        started = time.monotonic()
        response = await self.inner.sample(prompt, num_samples, params)
        self.seen.samples.append((started, time.monotonic()))
        scripted = self.replies[tuple(prompt.to_ints())]
        return types.SampleResponse(
            sequences=[
                types.SampledSequence(
                    stop_reason=stop,
                    sequence_id=seq.sequence_id,
                    tokens_np=np.asarray(tokens, np.int32),
                    logprobs_np=np.full(len(tokens), UNIFORM_LOGPROB, np.float32),
                )
                for seq, (tokens, stop) in zip(response.sequences, scripted, strict=True)
            ]
        )

    async def compute_logprobs(self, prompt: types.ModelInput) -> list[float | None]:
        return await self.inner.compute_logprobs(prompt)


class ObservedRun:
    """A :class:`SimulatedRun` with its submit calls timed and, for RLVR, scripted samplers."""

    def __init__(
        self, run: SimulatedRun, replies: dict[tuple[int, ...], list[Reply]] | None = None
    ) -> None:
        self.inner = run
        self.replies = replies
        self.seen = Observed()

    @property
    def run_id(self) -> str:
        return self.inner.run_id

    @property
    def base_model(self) -> str:
        return self.inner.base_model

    async def _timed_submit(self, op: str, submit: Awaitable[Any]) -> Any:
        started = time.perf_counter()
        pending = await submit
        self.seen.submits.append((op, time.perf_counter() - started))
        return pending

    async def submit_forward_backward(self, data: Sequence[types.Datum], loss_fn: LossFn) -> Any:
        return await self._timed_submit(
            "forward_backward", self.inner.submit_forward_backward(data, loss_fn)
        )

    async def submit_optim_step(self, adam: types.AdamParams) -> Any:
        return await self._timed_submit("optim_step", self.inner.submit_optim_step(adam))

    async def forward(
        self, data: Sequence[types.Datum], loss_fn: LossFn = "cross_entropy"
    ) -> types.ForwardBackwardOutput:
        return await self.inner.forward(data, loss_fn)

    async def save_state(self, name: str, ttl_s: int | None = None) -> str:
        return await self.inner.save_state(name, ttl_s)

    async def save_sampler_weights(self, name: str, ttl_s: int | None = None) -> str:
        return await self.inner.save_sampler_weights(name, ttl_s)

    async def sampler(self) -> Sampler:
        sampler = await self.inner.sampler()
        if self.replies is None:
            return sampler
        return ScriptedSampler(sampler, self.replies, self.seen)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass(frozen=True)
class ServerTime:
    """The simulated server's time per op, from the run's request events."""

    busy: float
    per_op: dict[str, list[float]]
    last_done: float
    submitted: dict[str, list[float]]

    @classmethod
    def of(cls, run: SimulatedRun) -> ServerTime:
        start: dict[int, float] = {}
        per_op: dict[str, list[float]] = {}
        submitted: dict[str, list[float]] = {}
        last = 0.0
        for event in run.events:
            if event.event == "submit":
                submitted.setdefault(event.op, []).append(event.time)
            elif event.event == "start":
                start[event.seq] = event.time
            elif event.event == "done":
                per_op.setdefault(event.op, []).append(event.time - start[event.seq])
                last = max(last, event.time)
        busy = sum(sum(v) for v in per_op.values())
        return cls(busy, per_op, last, submitted)


# ---------------------------------------------------------------- 1. SFT


@dataclass(frozen=True)
class SftPass:
    wall: float
    server: ServerTime
    submit_s: float
    steps: int


async def sft_pass(
    h: Harness,
    latencies: SimulatedLatencies,
    train: Sequence[tuple[list[int], list[float]]],
    settings: SftSettings,
) -> SftPass:
    run = await h.backend(latencies).create_run(BASE_MODEL, lora_rank=32, seed=settings.seed)
    observed = ObservedRun(run)
    total = len(sft_steps(len(train), settings))
    session = await h.session(observed, "sft", total)
    started = time.monotonic()
    steps = await run_sft(session, train, settings)
    wall = time.monotonic() - started
    await observed.aclose()
    submit_s = sum(s for _, s in observed.seen.submits)
    return SftPass(wall, ServerTime.of(run), submit_s, steps)


def _ms(values: Sequence[float]) -> str:
    return f"{1000 * statistics.fmean(values):.0f} ms (max {1000 * max(values):.0f})"


async def bench_sft(
    h: Harness, train: Sequence[tuple[list[int], list[float]]], args: argparse.Namespace
) -> list[float]:
    settings = SftSettings(
        batch_size=args.batch_size,
        num_epochs=1,
        learning_rate=1e-4,
        lr_schedule="linear",
        warmup_steps=0,
        eval_every=0,
        seed=0,
        max_steps=args.sft_steps,
    )
    fb, opt = args.fb_s, args.optim_s
    tokens = sum(len(t) - 1 for t, _ in train) / len(train) * args.batch_size
    print(
        f"\n== SFT: {args.sft_steps} steps x {args.batch_size} Socratic examples "
        f"(~{tokens:,.0f} tokens a step); forward_backward {fb} s, optim_step {opt} s"
    )
    compute = await sft_pass(h, SimulatedLatencies(), train, settings)
    print(
        f"simulator compute (zero latencies, {compute.wall:.2f} s for the run): forward_backward "
        f"{_ms(compute.server.per_op['forward_backward'])}, optim_step "
        f"{_ms(compute.server.per_op['optim_step'])}; its datum checks in the submit calls "
        f"{1000 * compute.submit_s / compute.steps:.0f} ms a step"
    )
    worst = max(
        max(compute.server.per_op["forward_backward"]) / fb,
        max(compute.server.per_op["optim_step"]) / opt,
    )
    if worst > 0.8:
        print(f"  warning: compute reaches {worst:.0%} of a latency; raise --fb-s/--optim-s")
    ideal = args.sft_steps * (fb + opt)
    print(
        f"{'run':<6}{'wall s':>9}{'ideal s':>9}{'ratio':>8}{'server idle s':>15}{'overrun s':>11}"
    )
    ratios = []
    for index in range(args.repeat):
        result = await sft_pass(
            h, SimulatedLatencies(forward_backward=fb, optim_step=opt), train, settings
        )
        idle = result.wall - result.server.busy
        overrun = result.server.busy - ideal
        ratios.append(result.wall / ideal)
        print(
            f"{index + 1:<6}{result.wall:>9.2f}{ideal:>9.2f}{result.wall / ideal:>8.3f}"
            f"{idle:>15.3f}{overrun:>11.3f}"
        )
    print(
        f"SFT wall/ideal {min(ratios):.3f}-{max(ratios):.3f} over {len(ratios)} runs "
        f"(target <= {SFT_TARGET}); server idle = wall - the server's busy time (the trainer's "
        "share), overrun = busy - ideal (simulator compute past a latency)"
    )
    return ratios


# ---------------------------------------------------------------- 2. RLVR: problems and replies

_CALC = re.compile(r"<<[^>]*>>")
_HASH = re.compile(r"\n?####\s*(.+)\s*$")


def _boxed_span(text: str) -> tuple[int, int] | None:
    """(start, end) of the last ``\\boxed{...}`` (balanced braces), or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth = 0
    for i in range(start + len("\\boxed"), len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return start, i + 1
    return None


@dataclass(frozen=True)
class Worked:
    """A problem's reference solution as steps: GSM8K's calculator notes and ``####`` line
    dropped, MATH's last ``\\boxed{}`` unwrapped (a reply states its own final answer)."""

    steps: list[str]
    gold: str


def worked(record: DatasetRecord) -> Worked:
    gold = str(record.answer)
    text = record.solution or ""
    if record.dataset == "gsm8k":
        text = _HASH.sub("", _CALC.sub("", text))
    else:
        span = _boxed_span(text)
        if span is not None:
            text = text[: span[0]] + text[span[0] + len("\\boxed{") : span[1] - 1] + text[span[1] :]
    steps = [s.strip() for s in re.split(r"\n+|(?<=[.!])\s+(?=[A-Z])", text) if s.strip()]
    return Worked(steps or [text], gold)


def _wrong(gold: str, others: Sequence[str], rng: random.Random) -> str:
    """Another final answer: a near miss of a number, or another problem's answer."""
    try:
        value = float(gold.replace(",", ""))
    except ValueError:
        value = math.nan
    if math.isnan(value) or rng.random() < 0.3:
        return rng.choice([o for o in others if o != gold] or ["0"])
    shifted = value + rng.choice([-3, -2, -1, 1, 2, 10]) if rng.random() < 0.6 else value * 2
    return f"{shifted:g}"


Count = Callable[[str], int]


def _lengthen(head: str, filler: str, tail: str, target: int, count: Count) -> str:
    """``head`` + as many ``filler`` blocks as bring it near ``target`` tokens + ``tail``."""
    missing = target - count(head + tail)
    repeats = max(0, math.ceil(missing / max(1, count(filler)))) if missing > 0 else 0
    return head + filler * repeats + tail


def solve_reply(
    w: Worked, outcome: str, target: int, others: Sequence[str], rng: random.Random, count: Count
) -> str:
    """A worked solution of about ``target`` tokens (a re-check of the steps pads it) ending in
    the outcome's final answer: ``right``, ``wrong`` or ``unboxed`` (right, not boxed)."""
    steps = "\n\n".join(f"**Step {i}:** {s}" for i, s in enumerate(w.steps, 1))
    head = "Let's solve this step by step.\n\n" + steps
    filler = "\n\nLet me double-check each step.\n\n" + "\n".join(w.steps)
    answer = w.gold if outcome != "wrong" else _wrong(w.gold, others, rng)
    if outcome == "unboxed":
        tail = f"\n\nSo the answer is {answer}."
    else:
        tail = f"\n\nTherefore, the final answer is $\\boxed{{{answer}}}$."
    return _lengthen(head, filler, tail, target, count)


def hint_reply(w: Worked, outcome: str, target: int, count: Count) -> str:
    """A tutoring turn: ``socratic`` (a hint and a question), ``reveal`` (the answer given
    away) or ``lecture`` (a hint, no question)."""
    half = " ".join(w.steps[: max(1, len(w.steps) // 2)])
    head = "Good question! Let's think about it together.\n\n" + half
    filler = "\n\nLook again at what the problem tells you. " + half
    tail = {
        "socratic": "\n\nWhat do you think the next step should be?",
        "reveal": f"\n\nSo the answer is {w.gold}. Does that make sense?",
        "lecture": "\n\nTry the next step on your own.",
    }[outcome]
    return _lengthen(head, filler, tail, target, count)


def scripted_replies(
    problems: Sequence[Problem],
    records: dict[str, DatasetRecord],
    renderer: Renderer,
    group_size: int,
    max_tokens: int,
    seed: int,
) -> dict[tuple[int, ...], list[Reply]]:
    """Each problem's group of replies, keyed by its generation prompt (set-up: not timed)."""
    rng = random.Random(seed)
    others = [str(r.answer) for r in records.values()][:2000]
    backend = renderer.tokenizer.backend_tokenizer

    def count(text: str) -> int:
        return len(backend.encode(text, add_special_tokens=False).ids)

    texts: list[str] = []
    for problem in problems:
        w = worked(records[problem.id])
        skill = rng.random()  # this problem's success rate under the policy
        for _ in range(group_size):
            good = rng.random() < skill
            if problem.mode == "hint":
                outcome = "socratic" if good else rng.choice(["reveal", "lecture"])
                texts.append(hint_reply(w, outcome, rng.randint(48, 256), count))
            else:
                outcome = ("unboxed" if rng.random() < 0.1 else "right") if good else "wrong"
                texts.append(solve_reply(w, outcome, rng.randint(96, 560), others, rng, count))
    encoded = [e.ids for e in backend.encode_batch(texts, add_special_tokens=False)]
    end = renderer.stop_tokens[0]
    replies: dict[tuple[int, ...], list[Reply]] = {}
    for i, problem in enumerate(problems):
        prompt = tuple(renderer.generation_prompt(problem_messages(problem)))
        group: list[Reply] = []
        for ids in encoded[i * group_size : (i + 1) * group_size]:
            cut = len(ids) >= max_tokens
            group.append((ids[:max_tokens], "length") if cut else ([*ids, end], "stop"))
        replies[prompt] = group
    return replies


def load_problems(
    mirror: Path, name: str, hint_fraction: float
) -> tuple[list[Problem], dict[str, DatasetRecord]]:
    """The train split's problems as the RLVR job loads them (MATH at grade 11; a seeded
    ``hint_fraction`` asked in hint mode), and the records with their solutions."""
    records, _ = load_mirror(mirror, name, "train")
    by_id = {r.id: r for r in records if r.answer}
    problems = [
        Problem(
            id=r.id,
            question=r.question,
            answer=str(r.answer),
            kind="gsm8k" if name == "gsm8k" else "math",
        )
        for r in by_id.values()
    ]
    if name == "math":
        problems = [replace(p, grade=11) for p in problems]
    rng = random.Random(0)
    problems = [replace(p, mode="hint") if rng.random() < hint_fraction else p for p in problems]
    return problems, by_id


# ---------------------------------------------------------------- 2. RLVR: the step


@dataclass(frozen=True)
class RlPass:
    wall: float
    phases: dict[str, float]
    sample_requests: list[float]
    metrics: dict[str, Any]
    submit_s: float


async def rl_pass(
    h: Harness,
    latencies: SimulatedLatencies,
    problems: Sequence[Problem],
    records: dict[str, DatasetRecord],
    renderer: Renderer,
    settings: OnPolicySettings,
    verifier: MathVerifier | None,
) -> RlPass:
    batch = [problems[i] for i in rl_steps(len(problems), settings)[0]]
    replies = scripted_replies(
        batch, records, renderer, settings.group_size, settings.max_tokens, settings.seed
    )
    run = await h.backend(latencies).create_run(BASE_MODEL, lora_rank=32, seed=settings.seed)
    observed = ObservedRun(run, replies)
    session = await h.session(observed, "rlvr", 1)
    weights = RewardWeights(correct=1.0, format=0.1, no_reveal=0.5, asks_question=0.25)
    started = time.monotonic()
    await run_rlvr(session, renderer, problems, settings, weights, verifier=verifier)
    ended = time.monotonic()
    await observed.aclose()
    server = ServerTime.of(run)
    samples = observed.seen.samples
    first_sample = min(s for s, _ in samples)
    # every request has the same latency, so the first reply is when they are all ready (when
    # the simulator's compute fits in it): the later ones wait for the loop, busy scoring
    first_reply = min(e for _, e in samples)
    fb_submitted = server.submitted["forward_backward"][0]
    phases = {
        "prompts": first_sample - started,
        "sampling": first_reply - first_sample,
        "rewards+datums": fb_submitted - first_reply,
        "training": server.last_done - fb_submitted,
        "record": ended - server.last_done,
    }
    rows = await h.runs.metrics(session.training_id)
    submit_s = sum(s for op, s in observed.seen.submits if op == "forward_backward")
    return RlPass(ended - started, phases, [e - s for s, e in samples], rows[-1].metrics, submit_s)


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


async def bench_rlvr(
    h: Harness,
    name: str,
    renderer: Renderer,
    mirror: Path,
    args: argparse.Namespace,
    verifier: MathVerifier | None,
) -> dict[str, list[float]]:
    hint_fraction = 0.25 if name == "gsm8k" else 0.0
    problems, records = load_problems(mirror, name, hint_fraction)

    def settings(seed: int) -> OnPolicySettings:
        return OnPolicySettings(
            group_size=args.group_size,
            groups_per_batch=args.groups,
            max_tokens=args.max_tokens,
            temperature=1.0,
            learning_rate=8e-5,
            lr_schedule="constant",
            warmup_steps=0,
            num_epochs=1,
            eval_every=0,
            seed=seed,
            max_steps=1,
        )

    fb, opt = args.rl_fb_s, args.rl_optim_s
    print(
        f"\n== RLVR {name} train: {args.groups} problems x {args.group_size} samples, "
        f"max_tokens {args.max_tokens}, hint fraction {hint_fraction}"
        f"{', math-verify pool of ' + str(verifier.workers) if verifier else ''}; "
        f"forward_backward {fb} s, optim_step {opt} s"
    )
    compute = await rl_pass(
        h, SimulatedLatencies(), problems, records, renderer, settings(100), verifier
    )
    sampling = max(compute.sample_requests)
    print(
        f"simulator compute (zero latencies): the last of the {len(compute.sample_requests)} "
        f"concurrent sample requests returned after {sampling:.2f} s (an upper bound: the "
        f"loop also scores the first groups meanwhile), training {compute.phases['training']:.2f}"
        f" s (fb + optim; the latencies: {fb + opt} s), datum checks in submit "
        f"{compute.submit_s:.2f} s"
    )
    if compute.phases["training"] > 0.8 * (fb + opt):
        print("  warning: the simulator's training compute nears its latency; raise --rl-fb-s")
    results: dict[str, list[float]] = {}
    seeds = iter(range(1, 1 + args.repeat * len(args.sample_s)))
    for sample in args.sample_s:
        ideal = sample + fb + opt
        print(
            f"sampling {sample} s a request: {'run':<5}{'wall s':>8}{'ideal s':>9}{'ratio':>7}   "
            "phases (s): prompts, sampling, rewards+datums, training, record"
        )
        ratios, last = [], compute
        for index in range(args.repeat):
            result = await rl_pass(
                h,
                SimulatedLatencies(forward_backward=fb, optim_step=opt, sample=sample),
                problems,
                records,
                renderer,
                settings(next(seeds)),
                verifier,
            )
            ratios.append(result.wall / ideal)
            if result.phases["sampling"] > 1.02 * sample:
                print(
                    f"  warning: sampling took {result.phases['sampling']:.2f} s, past its latency"
                )
            print(
                f"{'':<27}{index + 1:<5}{result.wall:>8.2f}{ideal:>9.2f}"
                f"{result.wall / ideal:>7.3f}   "
                + ", ".join(f"{v:.3f}" for v in result.phases.values())
            )
            last = result
        print(
            f"RLVR {name} at {sample} s sampling: wall/ideal {min(ratios):.3f}-{max(ratios):.3f} "
            f"over {len(ratios)} runs (target <= {RL_TARGET})"
        )
        results[f"{name}@{sample:g}s"] = ratios
    keys = (
        "reward/mean",
        "reward/accuracy",
        "reward/format_rate",
        "reward/no_reveal_rate",
        "groups/skipped_constant_reward",
        "train/datums",
        "tokens/sampled",
        "tokens/trained",
    )
    print("  last step's metrics: " + ", ".join(f"{k} {_fmt(last.metrics.get(k))}" for k in keys))
    return results


# ---------------------------------------------------------------- 3. rendering


def bench_render(
    loaded: Renderer, examples: Sequence[Example], args: argparse.Namespace
) -> list[float]:
    """``trainer_render.py``'s measurement: a fresh renderer (no cached chunks) per run."""
    print(
        f"\n== Rendering the Socratic set: {len(examples):,} examples, max_length {args.max_length}"
    )
    times = []
    for _ in range(args.repeat):
        renderer = Renderer(loaded.tokenizer, loaded.name)
        started = time.perf_counter()
        renderer.render_examples(examples, args.max_length)
        times.append(time.perf_counter() - started)
    ratios = [t / RENDER_TARGET_S for t in times]
    print(
        f"render_examples {min(times):.2f}-{max(times):.2f} s over {len(times)} runs = "
        f"{min(ratios):.2f}-{max(ratios):.2f}x the {RENDER_TARGET_S:.0f} s target"
    )
    return ratios


# ---------------------------------------------------------------- main


async def socratic_parts(
    h: Harness, loaded: Renderer, args: argparse.Namespace
) -> dict[str, list[float]]:
    """Rendering and SFT, on the Socratic set (built here, and gone when this returns)."""
    started = time.perf_counter()
    lines = socratic_lines(Path(args.mirror) / "gsm8k/train.jsonl")
    examples = [parse_example(json.loads(x)) for x in lines]
    print(f"the Socratic set: {len(examples):,} examples in {time.perf_counter() - started:.1f} s")
    results: dict[str, list[float]] = {}
    if "render" in args.parts:
        results["render"] = bench_render(loaded, examples, args)
    if "sft" in args.parts:
        rendered = loaded.render_examples(examples, args.max_length)
        train = [(list(r.tokens), list(r.weights)) for r in rendered if r.trainable]
        results["sft"] = await bench_sft(h, train, args)
    return results


async def run(args: argparse.Namespace) -> dict[str, list[float]]:
    # The simulator runs its numpy work with asyncio.to_thread. That work is GIL-bound: the 64
    # sample requests of an RLVR step on the default executor's 6 threads take ~7 s of CPU,
    # on one thread ~2.7 s (measured). One thread keeps the simulator's cost what it is; only
    # the simulator uses the default executor in the loops measured here.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(1, thread_name_prefix="simulator")
    )
    mirror = Path(args.mirror)
    loaded = Renderer.load(args.tokenizer)
    results: dict[str, list[float]] = {}
    root = Path(tempfile.mkdtemp(prefix="tutorlab-bench-trainer-"))
    h = await Harness.create(root)
    try:
        if "render" in args.parts or "sft" in args.parts:
            results.update(await socratic_parts(h, loaded, args))
            # an RLVR run holds no SFT set: while it is alive, a full collection during a step
            # walks its examples and ~15M token and weight references (0.3 s here, 0.08 without)
            gc.collect()
        if "rlvr" in args.parts:
            results.update(await bench_rlvr(h, "gsm8k", loaded, mirror, args, None))
        if "math" in args.parts:
            verifier = MathVerifier(workers=2, timeout_s=5.0)
            await asyncio.to_thread(verifier.start)
            try:
                # the workers import math-verify and sympy on their first items
                await verifier.verify_many([("1/2", "0.5"), ("\\sqrt{2}", "2^{1/2}")] * 4)
                results.update(await bench_rlvr(h, "math", loaded, mirror, args, verifier))
            finally:
                verifier.close()
    finally:
        await h.engine.dispose()
    print(f"\nexperiment folders and the database: {root}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shared = ROOT.parent / "shared"
    parser.add_argument(
        "--mirror", default=os.environ.get("TUTORLAB_DATASET_MIRROR", str(shared / "datasets"))
    )
    parser.add_argument(
        "--tokenizer",
        default=os.environ.get("TUTORLAB_TOKENIZER_DIR", str(shared / "tokenizers/qwen3")),
    )
    parser.add_argument("--parts", nargs="+", default=["sft", "rlvr", "math", "render"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--sft-steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--fb-s", type=float, default=1.6)
    parser.add_argument("--optim-s", type=float, default=0.4)
    parser.add_argument("--groups", type=int, default=64)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--sample-s", type=float, nargs="+", default=[4.0, 8.0])
    parser.add_argument("--rl-fb-s", type=float, default=3.2)
    parser.add_argument("--rl-optim-s", type=float, default=0.4)
    args = parser.parse_args()
    results = asyncio.run(run(args))
    targets = {"sft": SFT_TARGET, "gsm8k": RL_TARGET, "math": RL_TARGET, "render": 1.0}
    print("\nsummary (ratio to the ideal / target, min-max over runs):")
    for part, ratios in results.items():
        target = targets[part.split("@")[0]]
        verdict = "ok" if max(ratios) <= target else "OVER"
        print(f"  {part:<10}{min(ratios):.3f}-{max(ratios):.3f}  target <= {target}  {verdict}")


if __name__ == "__main__":
    main()
