"""The simulated training backend learns for real: SFT lowers held-out NLL, importance-sampling RL
moves reward with the sign of the advantage, requests run in submission order, and a checkpoint
resumed by a new backend continues bit for bit."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from tinker import types
from trainer_service.backends import (
    BackendConfigError,
    BackendError,
    SimulatedBackend,
    SimulatedLatencies,
    TrainingBackend,
    TrainingRun,
)
from trainer_service.backends.sim_model import PositionBatch, TokenModel, context_buckets
from trainer_service.backends.simulated import QWEN3_VOCAB_SIZE

BASE = "Qwen/Qwen3-8B"


def sft_datum(prompt: Sequence[int], completion: Sequence[int]) -> types.Datum:
    """Tinker's SFT datum: input = all tokens but the last, targets shifted by one, weight 1 on
    the completion's tokens only."""
    tokens = [*prompt, *completion]
    weights = [0.0] * (len(prompt) - 1) + [1.0] * len(completion)
    return types.Datum(
        model_input=types.ModelInput.from_ints(tokens[:-1]),
        loss_fn_inputs={"target_tokens": ints(tokens[1:]), "weights": floats(weights)},
    )


def ints(values: Sequence[int]) -> types.TensorData:
    return types.TensorData.from_numpy(np.asarray(values, np.int64))


def floats(values: Sequence[float]) -> types.TensorData:
    return types.TensorData.from_numpy(np.asarray(values, np.float32))


def rl_datum(
    prompt: Sequence[int], completion: Sequence[int], logprobs: Sequence[float], advantage: float
) -> types.Datum:
    """Tinker's importance-sampling datum: the sampler's logprobs and the advantage on the
    sampled tokens, zeros on the prompt."""
    tokens = [*prompt, *completion]
    pad = [0.0] * (len(prompt) - 1)
    return types.Datum(
        model_input=types.ModelInput.from_ints(tokens[:-1]),
        loss_fn_inputs={
            "target_tokens": ints(tokens[1:]),
            "logprobs": floats([*pad, *logprobs]),
            "advantages": floats([*pad, *([advantage] * len(completion))]),
        },
    )


def markov_corpus(rng: np.random.Generator, n: int, length: int = 24) -> list[list[int]]:
    """Sequences from a fixed sparse Markov chain over 40 real Qwen3 token ids: learnable
    structure, and held-out sequences that share it without repeating the training ones."""
    states = np.arange(1000, 1040)
    chain = np.random.default_rng(7)
    successors = {int(s): chain.choice(states, size=3, replace=False) for s in states}
    out = []
    for _ in range(n):
        seq = [int(rng.choice(states))]
        for _ in range(length - 1):
            seq.append(int(rng.choice(successors[seq[-1]])))
        out.append(seq)
    return out


async def eval_nll(run: TrainingRun, data: list[types.Datum]) -> float:
    """Mean NLL per weighted token, from ``forward`` (no gradient)."""
    out = await run.forward(data, "cross_entropy")
    weight = sum(float(np.sum(d.loss_fn_inputs["weights"].to_numpy())) for d in data)
    return out.metrics["loss:sum"] / weight


async def train_step(run: TrainingRun, data: list[types.Datum], loss_fn: str, lr: float) -> float:
    fwd_bwd = await run.submit_forward_backward(data, loss_fn)  # type: ignore[arg-type]
    optim = await run.submit_optim_step(types.AdamParams(learning_rate=lr))
    out = await fwd_bwd
    await optim
    return out.metrics["loss:sum"]


def test_untrained_model_is_uniform_over_the_whole_vocabulary() -> None:
    model = TokenModel(vocab_size=QWEN3_VOCAB_SIZE, ctx_buckets=64)
    tokens = np.array([5, 6, 7], np.int64)
    batch = PositionBatch(tokens, context_buckets(tokens, 64), np.array([6, 7, 8]), np.ones(3))
    logprobs, _ = model.forward(batch)
    np.testing.assert_allclose(logprobs, -math.log(QWEN3_VOCAB_SIZE), rtol=1e-6)
    # activating the targets (zero columns) changes no probability: the normaliser is exact
    model.activate(batch)
    np.testing.assert_allclose(model.forward(batch)[0], logprobs, rtol=1e-6)


@pytest.mark.parametrize("loss", ["cross_entropy", "importance_sampling"])
def test_gradients_match_finite_differences(loss: str) -> None:
    """The accumulated gradient is the loss's real derivative, checked on every parameter kind."""
    rng = np.random.default_rng(3)
    vocab, buckets = 12, 8
    model = TokenModel(vocab_size=vocab, ctx_buckets=buckets)
    tokens = rng.integers(0, vocab, 30)
    batch = PositionBatch(
        prev_tokens=tokens,
        ctx_keys=context_buckets(tokens, buckets),
        targets=rng.integers(0, vocab, 30),
        scale=rng.normal(size=30) * (rng.random(30) < 0.7),
        sampler_logprobs=rng.normal(-2.0, 0.3, 30) if loss == "importance_sampling" else None,
    )
    model.activate(batch)
    for block in (model.bias, model.w_prev, model.w_ctx):  # a non-trivial point
        block.value[:] = rng.normal(scale=0.5, size=block.value.shape).astype(np.float32)
    model.w_prev.value[0] = model.w_ctx.value[0] = 0
    model.forward_backward(batch)

    def total_loss() -> float:
        return float(model.forward(batch)[1].sum())

    checked = 0
    for block, rows in (
        (model.bias, 1),
        (model.w_prev, model.n_prev_rows),
        (model.w_ctx, model.n_ctx_rows),
    ):
        for r in range(1 if block is not model.bias else 0, rows):
            for c in range(model.n_cols):
                grad = float(block.grad[r, c])
                if abs(grad) < 1e-2:
                    continue
                old = block.value[r, c]
                block.value[r, c] = old + 1e-2
                up = total_loss()
                block.value[r, c] = old - 1e-2
                down = total_loss()
                block.value[r, c] = old
                assert (up - down) / 2e-2 == pytest.approx(grad, rel=2e-2, abs=2e-3)
                checked += 1
    assert checked > 20


async def test_sft_lowers_held_out_nll(tmp_path: Path) -> None:
    backend = SimulatedBackend(tmp_path)
    run = await backend.create_run(BASE, lora_rank=32, seed=1)
    rng = np.random.default_rng(0)
    train = [sft_datum(s[:4], s[4:]) for s in markov_corpus(rng, 128)]
    held_out = [sft_datum(s[:4], s[4:]) for s in markov_corpus(rng, 16)]
    curve = [await eval_nll(run, held_out)]
    train_losses = []
    for step in range(20):
        train_losses.append(await train_step(run, train, "cross_entropy", lr=2e-4))
        if step % 5 == 4:
            curve.append(await eval_nll(run, held_out))
    assert curve[0] == pytest.approx(math.log(QWEN3_VOCAB_SIZE), rel=1e-4)  # starts uniform
    assert curve == sorted(curve, reverse=True), curve  # falls at every evaluation
    # the chain has 3 successors per token: a model that learned it nears log(3) ≈ 1.1 per token
    assert curve[-1] < 2.5, curve
    assert train_losses[-1] < 0.3 * train_losses[0]


async def rl_mean_reward(
    backend: SimulatedBackend, *, advantage_sign: float, steps: int, seed: int = 5
) -> tuple[float, float]:
    """GRPO-style RL on a verifiable task: prompt i should produce token TARGET[i] somewhere in
    a 3-token answer. Returns the mean reward of the first and of the last 5 steps."""
    prompts = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]
    targets = [13, 14, 15, 13]
    params = types.SamplingParams(max_tokens=3, temperature=1.0, stop=[])
    run = await backend.create_run(BASE, lora_rank=8, seed=seed)
    rewards_per_step = []
    for _ in range(steps):
        sampler = await run.sampler()
        data, rewards = [], []
        for prompt, target in zip(prompts, targets, strict=True):
            response = await sampler.sample(types.ModelInput.from_ints(prompt), 8, params)
            group = [float(target in seq.tokens) for seq in response.sequences]
            rewards += group
            mean = sum(group) / len(group)
            for seq, reward in zip(response.sequences, group, strict=True):
                advantage = advantage_sign * (reward - mean)
                if advantage:
                    assert seq.logprobs is not None
                    data.append(rl_datum(prompt, seq.tokens, seq.logprobs, advantage))
        rewards_per_step.append(sum(rewards) / len(rewards))
        if data:
            await train_step(run, data, "importance_sampling", lr=5e-5)
    return float(np.mean(rewards_per_step[:5])), float(np.mean(rewards_per_step[-5:]))


async def test_importance_sampling_rl_raises_reward(tmp_path: Path) -> None:
    backend = SimulatedBackend(tmp_path, vocab_size=16, eos_token_ids=())
    first, last = await rl_mean_reward(backend, advantage_sign=1.0, steps=30)
    assert first < 0.4  # untrained: 1 - (15/16)**3 ≈ 0.18
    assert last > first + 0.4, (first, last)


async def test_flipped_advantage_sign_makes_reward_fall(tmp_path: Path) -> None:
    backend = SimulatedBackend(tmp_path, vocab_size=16, eos_token_ids=())
    first, last = await rl_mean_reward(backend, advantage_sign=-1.0, steps=30)
    assert first > 0.1
    assert last < first / 2, (first, last)


async def test_sampler_logprobs_are_the_training_logprobs(tmp_path: Path) -> None:
    """On-policy, the importance ratio is 1: what the sampler reports for its tokens is what a
    forward pass and compute_logprobs compute for them."""
    backend = SimulatedBackend(tmp_path, seed=2)
    run = await backend.create_run(BASE, lora_rank=8)
    rng = np.random.default_rng(1)
    corpus = markov_corpus(rng, 16)
    for _ in range(5):
        await train_step(run, [sft_datum(s[:4], s[4:]) for s in corpus], "cross_entropy", 1e-4)
    sampler = await run.sampler()
    prompt = corpus[0][:6]
    response = await sampler.sample(
        types.ModelInput.from_ints(prompt), 4, types.SamplingParams(max_tokens=12, stop=[])
    )
    for seq in response.sequences:
        assert seq.logprobs is not None
        out = await run.forward(
            [rl_datum(prompt, seq.tokens, seq.logprobs, 1.0)], "importance_sampling"
        )
        trained = out.loss_fn_outputs[0]["logprobs"].to_numpy()[len(prompt) - 1 :]
        np.testing.assert_allclose(trained, seq.logprobs, atol=1e-4)
        scored = await sampler.compute_logprobs(types.ModelInput.from_ints(prompt + seq.tokens))
        assert scored[0] is None
        np.testing.assert_allclose(
            np.array(scored[len(prompt) :], float), np.array(seq.logprobs), atol=1e-4
        )
        # importance ratio 1 and advantage 1: the loss is minus the number of tokens
        assert out.metrics["loss:sum"] == pytest.approx(-len(seq.tokens), rel=1e-4)


async def test_pipelined_steps_run_in_submission_order(tmp_path: Path) -> None:
    latencies = SimulatedLatencies(forward_backward=0.02, optim_step=0.01, save=0.005)
    backend = SimulatedBackend(tmp_path, latencies=latencies)
    run = await backend.create_run(BASE, lora_rank=8)
    data = [sft_datum([1, 2, 3], [4, 5, 6])]
    pending = await run.submit_forward_backward(data, "cross_entropy")
    assert not pending.done()  # the latency knob: submitting returns before the work is done
    for step in range(3):
        optim = await run.submit_optim_step(types.AdamParams(learning_rate=1e-4))
        following = await run.submit_forward_backward(data, "cross_entropy") if step < 2 else None
        await pending
        await optim
        pending = following  # type: ignore[assignment]
    await run.save_state("after-3")

    events: list[tuple[str, str, int]] = [
        (e.op, e.event, e.step)
        for e in run.events  # type: ignore[attr-defined]
    ]

    def at(op: str, event: str, step: int) -> int:
        return events.index((op, event, step))

    for k in range(3):
        # pipelined: step k's optimizer step (and step k+1's forward-backward) were queued
        # before the loop waited for step k's forward-backward
        assert at("optim_step", "submit", k) < at("forward_backward", "await", k)
        assert at("optim_step", "submit", k) < at("forward_backward", "done", k)
        # and the backend ran them one after the other, in submission order
        assert at("forward_backward", "done", k) < at("optim_step", "start", k)
        if k < 2:
            assert at("forward_backward", "submit", k + 1) < at("forward_backward", "await", k)
            assert at("optim_step", "done", k) < at("forward_backward", "start", k + 1)
    assert at("optim_step", "done", 2) < at("save_state", "start", 3)
    starts = [
        seq
        for (e, seq) in ((e.event, e.seq) for e in run.events)  # type: ignore[attr-defined]
        if e == "start"
    ]
    assert starts == sorted(starts)


async def test_resume_in_a_new_backend_continues_identically(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    corpus = [sft_datum(s[:4], s[4:]) for s in markov_corpus(rng, 12)]
    batches = [corpus[:6], corpus[6:]]
    probe = corpus[:3]

    first = SimulatedBackend(tmp_path / "state")
    run = await first.create_run(BASE, lora_rank=16, seed=9, metadata={"job": "j1"})
    for step in range(4):
        await train_step(run, batches[step % 2], "cross_entropy", 2e-4)
        await run.sampler()  # RL refreshes its sampler every step
    path = await run.save_state("step-4", ttl_s=3600)
    assert path == f"tinker://{run.run_id}/weights/step-4"
    at_save = await run.forward(probe)
    params = types.SamplingParams(max_tokens=8, stop=[])
    prompt = types.ModelInput.from_ints([1000, 1001, 1002])
    sampled = await (await run.sampler()).sample(prompt, 3, params)
    continued = [
        await train_step(run, batches[step % 2], "cross_entropy", 2e-4) for step in range(4, 7)
    ]
    after = await run.forward(probe)
    await run.aclose()

    # the worker died: a new process, a new backend on the same directory
    second = SimulatedBackend(tmp_path / "state")
    resumed = await second.resume_run(path)
    assert resumed.run_id != run.run_id and resumed.base_model == BASE
    restored = await resumed.forward(probe)
    for a, b in zip(at_save.loss_fn_outputs, restored.loss_fn_outputs, strict=True):
        np.testing.assert_array_equal(a["logprobs"].to_numpy(), b["logprobs"].to_numpy())
    resampled = await (await resumed.sampler()).sample(prompt, 3, params)
    assert [s.tokens for s in resampled.sequences] == [s.tokens for s in sampled.sequences]
    replayed = [
        await train_step(resumed, batches[step % 2], "cross_entropy", 2e-4) for step in range(4, 7)
    ]
    assert replayed == continued  # Adam's moments came back too, or these would differ
    replayed_after = await resumed.forward(probe)
    for a, b in zip(after.loss_fn_outputs, replayed_after.loss_fn_outputs, strict=True):
        np.testing.assert_array_equal(a["logprobs"].to_numpy(), b["logprobs"].to_numpy())
    # step numbers continue across the resume
    assert {e.step for e in resumed.events if e.op == "optim_step"} == {4, 5, 6}

    # and the comparison is sensitive: the same weights without Adam's moments diverge
    forgetful = await second.resume_run(path)
    for block in (forgetful._model.bias, forgetful._model.w_prev, forgetful._model.w_ctx):
        block.m[:] = 0
        block.v[:] = 0
    diverged = [
        await train_step(forgetful, batches[step % 2], "cross_entropy", 2e-4)
        for step in range(4, 7)
    ]
    assert diverged[0] == continued[0] and diverged[1:] != continued[1:]


async def test_returns_real_tinker_types_and_checkpoint_paths(tmp_path: Path) -> None:
    backend = SimulatedBackend(tmp_path)
    assert isinstance(backend, TrainingBackend)
    caps = await backend.capabilities()
    assert {c.name for c in caps} >= {"Qwen/Qwen3-8B", "meta-llama/Llama-3.1-8B"}
    assert all(c.trainable and c.sampleable and c.max_context_length == 32768 for c in caps)
    run = await backend.create_run(BASE, lora_rank=8)
    assert isinstance(run, TrainingRun)
    data = [sft_datum([1, 2, 3], [4, 5, 6, 7])]
    fwd_bwd = await (await run.submit_forward_backward(data, "cross_entropy"))
    assert isinstance(fwd_bwd, types.ForwardBackwardOutput)
    out = fwd_bwd.loss_fn_outputs[0]
    assert isinstance(out["logprobs"], types.TensorData)
    assert out["logprobs"].to_numpy().shape == (6,)
    np.testing.assert_allclose(  # loss:sum is the weighted NLL of the completion's tokens
        fwd_bwd.metrics["loss:sum"], -out["logprobs"].to_numpy()[2:].sum(), rtol=1e-5
    )
    optim = await (await run.submit_optim_step(types.AdamParams(learning_rate=1e-4)))
    assert isinstance(optim, types.OptimStepResponse)
    assert optim.metrics is not None and optim.metrics["grad_norm"] > 0
    sampler_path = await run.save_sampler_weights("final")
    assert sampler_path == f"tinker://{run.run_id}/sampler_weights/final"
    sampler = await backend.sampler_for(sampler_path)
    response = await sampler.sample(
        types.ModelInput.from_ints([1, 2, 3]), 2, types.SamplingParams(max_tokens=5, seed=1)
    )
    assert isinstance(response, types.SampleResponse)
    assert all(isinstance(s, types.SampledSequence) for s in response.sequences)
    assert [len(s.tokens) for s in response.sequences] == [5, 5]
    assert {s.stop_reason for s in response.sequences} == {"length"}
    # the registered sampler scores like the run's own weights
    live = await (await run.sampler()).compute_logprobs(types.ModelInput.from_ints([1, 2, 3, 4]))
    saved = await sampler.compute_logprobs(types.ModelInput.from_ints([1, 2, 3, 4]))
    assert live == saved and saved[0] is None
    # a seeded request is reproducible
    again = await sampler.sample(
        types.ModelInput.from_ints([1, 2, 3]), 2, types.SamplingParams(max_tokens=5, seed=1)
    )
    assert [s.tokens for s in again.sequences] == [s.tokens for s in response.sequences]


async def test_sampling_stops_on_stop_tokens_and_strings(tmp_path: Path) -> None:
    backend = SimulatedBackend(
        tmp_path,
        vocab_size=6,
        eos_token_ids=(5,),
        decode=lambda ts: "".join("ab cde"[t] for t in ts),
    )
    sampler = await backend.sampler_for(BASE)
    prompt = types.ModelInput.from_ints([0])
    eos = await sampler.sample(prompt, 40, types.SamplingParams(max_tokens=30, seed=3))
    stopped = [s for s in eos.sequences if s.stop_reason == "stop"]
    assert stopped and all(s.tokens[-1] == 5 and 5 not in s.tokens[:-1] for s in stopped)
    assert all(
        len(s.tokens) == 30 and 5 not in s.tokens
        for s in eos.sequences
        if s.stop_reason == "length"
    )
    by_id = await sampler.sample(prompt, 40, types.SamplingParams(max_tokens=30, stop=[2], seed=3))
    assert all(s.tokens[-1] == 2 for s in by_id.sequences if s.stop_reason == "stop")
    assert any(5 in s.tokens for s in by_id.sequences)  # [..] replaces the implicit EOS
    by_text = await sampler.sample(
        prompt, 40, types.SamplingParams(max_tokens=30, stop="cd", seed=3)
    )
    for s in by_text.sequences:
        text = "".join("ab cde"[t] for t in s.tokens)
        assert (s.stop_reason == "stop") == text.endswith("cd")
        assert "cd" not in text[:-1]


async def test_bad_requests_name_what_is_wrong(tmp_path: Path) -> None:
    backend = SimulatedBackend(tmp_path, vocab_size=100)
    with pytest.raises(BackendConfigError, match="Qwen/Qwen3-999B"):
        await backend.create_run("Qwen/Qwen3-999B", lora_rank=8)
    with pytest.raises(BackendConfigError, match="gpt-x"):
        await backend.sampler_for("gpt-x")
    run = await backend.create_run(BASE, lora_rank=8)
    good = sft_datum([1, 2], [3])
    missing = types.Datum(
        model_input=types.ModelInput.from_ints([1, 2]),
        loss_fn_inputs={"target_tokens": ints([2, 3])},
    )
    with pytest.raises(BackendError, match=r"datum 1: loss_fn_inputs\['weights'\] is missing"):
        await run.submit_forward_backward([good, missing], "cross_entropy")
    with pytest.raises(BackendError, match=r"datum 0: loss_fn_inputs\['logprobs'\]"):
        await run.submit_forward_backward([good], "importance_sampling")
    with pytest.raises(BackendError, match="token 500, outside the vocabulary"):
        await run.submit_forward_backward([sft_datum([1, 500], [3])], "cross_entropy")
    with pytest.raises(BackendError, match="checkpoint name"):
        await run.save_state("../escape")
    sampler = await run.sampler()
    with pytest.raises(BackendError, match="max_tokens"):
        await sampler.sample(types.ModelInput.from_ints([1]), 1, types.SamplingParams())
    with pytest.raises(BackendError, match="decoder"):
        await sampler.sample(
            types.ModelInput.from_ints([1]), 1, types.SamplingParams(max_tokens=2, stop=["\n"])
        )
    sampler_path = await run.save_sampler_weights("s1")
    with pytest.raises(BackendError, match="resumes only from a weights/ path"):
        await backend.resume_run(sampler_path)
    with pytest.raises(BackendError, match="not found"):
        await backend.resume_run(f"tinker://{run.run_id}/weights/nope")
    # the good request still trains after the refused ones: refusals happen before queueing
    out = await (await run.submit_forward_backward([good], "cross_entropy"))
    assert out.metrics["loss:sum"] > 0
    other = SimulatedBackend(tmp_path, vocab_size=200)
    with pytest.raises(BackendConfigError, match="vocab_size=100"):
        await other.sampler_for(sampler_path)


async def test_checkpoints_past_their_ttl_are_deleted(tmp_path: Path) -> None:
    now = [1_000_000.0]
    backend = SimulatedBackend(tmp_path, clock=lambda: now[0])
    run = await backend.create_run(BASE, lora_rank=8)
    short = await run.save_state("periodic", ttl_s=3600)
    kept = await run.save_sampler_weights("final")
    now[0] += 3601
    with pytest.raises(BackendError, match="expired"):
        await backend.resume_run(short)
    assert not list(tmp_path.glob(f"{run.run_id}/weights/periodic.*"))
    assert await backend.sampler_for(kept)  # no TTL: kept
