"""``SimulatedBackend``: the training backend as a small in-memory model that really learns.

For tests, the demo and anyone without a Tinker key (``backend: simulated`` in a config; it is a
simulation, and says so). It speaks the same protocol with the same ``tinker.types`` values as
:class:`~.tinker_backend.TinkerBackend`, computes every number it returns (see
:mod:`.sim_model`: real softmax cross-entropy, real importance-sampling loss, AdamW), runs the
requests of a run in submission order with configurable latencies (:mod:`.sim_requests`), and
keeps checkpoints on disk under ``state_dir`` so a killed worker's successor can resume
(:mod:`.sim_store`).

What is simulated, and differs from Tinker: the model is a hashed bigram/trigram log-linear model
(LoRA rank is recorded, not used); every base model starts as the uniform distribution; and the
learning rate is multiplied by ``lr_scale`` (default 1000) because a config's rate is tuned for
LoRA on billions of weights while this model's parameters are logits, which would barely move.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from tinker import types

from .protocol import BackendConfigError, BackendError, LossFn, ModelCapability
from .sim_datums import datum_tokens, forward_output, positions_of
from .sim_model import TokenModel, Weights, empty_weights, weights_from_arrays
from .sim_requests import PendingResult, RequestQueue, RunEvent
from .sim_sampling import Decoder, StopRule, prompt_logprobs, sample
from .sim_store import CheckpointStore
from .tinker_paths import CheckpointPath, check_name, check_ttl, is_checkpoint_path

T = TypeVar("T")

QWEN3_VOCAB_SIZE = 151_936
#: Qwen3's <|im_end|> and <|endoftext|>: where sampling stops when SamplingParams.stop is None
QWEN3_EOS_TOKEN_IDS = (151_645, 151_643)

DEFAULT_MODELS: tuple[ModelCapability, ...] = tuple(
    ModelCapability(name, trainable=True, sampleable=True, max_context_length=32_768)
    for name in ("Qwen/Qwen3-8B", "Qwen/Qwen3-30B-A3B", "meta-llama/Llama-3.1-8B")
)


@dataclass(frozen=True)
class SimulatedLatencies:
    """Seconds each request takes (at least; the model's own compute overlaps it)."""

    forward_backward: float = 0.0
    optim_step: float = 0.0
    forward: float = 0.0
    sample: float = 0.0
    save: float = 0.0

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value < 0:
                raise ValueError(f"{name}: a latency cannot be negative ({value})")


class SimulatedSampler:
    """Samples from a frozen copy of the weights (an ephemeral snapshot or a saved checkpoint)."""

    def __init__(
        self,
        backend: SimulatedBackend,
        weights: Weights,
        base_model: str,
        *,
        sampler_id: str,
        seed: int,
    ) -> None:
        self._backend = backend
        self._weights = weights
        self.base_model = base_model
        self.sampler_id = sampler_id
        self._seed = seed
        self._requests = 0

    def _check_prompt(self, prompt: types.ModelInput, extra: int) -> list[int]:
        tokens: list[int] = datum_tokens(types.Datum(model_input=prompt), 0).tolist()
        if not tokens:
            raise BackendError("prompt: empty")
        vocab = self._weights.vocab_size
        bad = [t for t in tokens if not 0 <= t < vocab]
        if bad:
            raise BackendError(f"prompt: token {bad[0]} outside the vocabulary (0..{vocab - 1})")
        limit = self._backend.context_length(self.base_model)
        if limit is not None and len(tokens) + extra > limit:
            raise BackendError(
                f"prompt: {len(tokens)} tokens + max_tokens {extra} exceed the context length"
                f" {limit} of {self.base_model}"
            )
        return tokens

    async def sample(
        self, prompt: types.ModelInput, num_samples: int, params: types.SamplingParams
    ) -> types.SampleResponse:
        if num_samples < 1:
            raise BackendError(f"num_samples: must be at least 1 (got {num_samples})")
        if params.max_tokens is None or params.max_tokens < 1:
            raise BackendError("SamplingParams.max_tokens: required, at least 1")
        if params.top_k not in (-1, 0) or params.top_p != 1:
            raise BackendError(
                "SamplingParams.top_k/top_p: not supported by the simulated backend"
                " (use temperature)"
            )
        if params.temperature < 0:
            raise BackendError(f"SamplingParams.temperature: {params.temperature} < 0")
        tokens = self._check_prompt(prompt, params.max_tokens)
        stop = StopRule.from_params(
            params.stop,
            default_token_ids=self._backend.eos_token_ids,
            decode=self._backend.decode,
        )
        index = self._requests
        self._requests += 1
        seed = [params.seed] if params.seed is not None else [self._seed, index]
        rng = np.random.default_rng(seed)
        max_tokens, temperature = params.max_tokens, params.temperature

        def compute() -> types.SampleResponse:
            samples = sample(
                self._weights,
                tokens,
                num_samples,
                max_tokens=max_tokens,
                temperature=temperature,
                stop=stop,
                rng=rng,
            )
            return types.SampleResponse(
                sequences=[
                    types.SampledSequence(
                        stop_reason=s.stop_reason,
                        sequence_id=f"{self.sampler_id}:{index}:{j}",
                        tokens_np=np.asarray(s.tokens, np.int32),
                        logprobs_np=np.asarray(s.logprobs, np.float32),
                    )
                    for j, s in enumerate(samples)
                ]
            )

        return await self._backend.timed(compute, self._backend.latencies.sample)

    async def compute_logprobs(self, prompt: types.ModelInput) -> list[float | None]:
        tokens = self._check_prompt(prompt, 0)
        return await self._backend.timed(
            lambda: prompt_logprobs(self._weights, tokens), self._backend.latencies.sample
        )


class SimulatedRun:
    """One simulated LoRA run: its model, its request queue, its checkpoints."""

    def __init__(
        self,
        backend: SimulatedBackend,
        run_id: str,
        base_model: str,
        *,
        lora_rank: int,
        seed: int,
        model: TokenModel,
        metadata: Mapping[str, str],
        samplers_made: int = 0,
    ) -> None:
        self._backend = backend
        self._run_id = run_id
        self._base_model = base_model
        self.lora_rank = lora_rank
        self.seed = seed
        self.metadata = dict(metadata)
        self._model = model
        self._queue = RequestQueue(run_id, backend.events)
        #: event ``step`` numbers continue across a resume
        self._optim_submitted = model.adam_steps
        self._samplers_made = samplers_made

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def base_model(self) -> str:
        return self._base_model

    @property
    def events(self) -> list[RunEvent]:
        """This run's request events, in the order they happened."""
        return [e for e in self._backend.events if e.run_id == self._run_id]

    @property
    def optimizer_steps(self) -> int:
        """Optimizer steps applied to the weights (restored ones included)."""
        return self._model.adam_steps

    def _positions(self, data: Sequence[types.Datum], loss_fn: LossFn) -> Any:
        return positions_of(
            data,
            loss_fn,
            vocab_size=self._backend.vocab_size,
            ctx_buckets=self._backend.ctx_buckets,
            max_length=self._backend.context_length(self._base_model),
        )

    async def submit_forward_backward(
        self, data: Sequence[types.Datum], loss_fn: LossFn
    ) -> PendingResult[types.ForwardBackwardOutput]:
        batch, lengths = self._positions(data, loss_fn)

        def compute() -> types.ForwardBackwardOutput:
            return forward_output(*self._model.forward_backward(batch), lengths)

        return self._queue.submit(
            "forward_backward",
            self._optim_submitted,
            compute,
            self._backend.latencies.forward_backward,
        )

    async def submit_optim_step(
        self, adam: types.AdamParams
    ) -> PendingResult[types.OptimStepResponse]:
        if not isinstance(adam, types.AdamParams):
            raise BackendError(f"optim_step: AdamParams expected, got {type(adam).__name__}")
        if adam.learning_rate < 0:
            raise BackendError(f"AdamParams.learning_rate: {adam.learning_rate} < 0")
        step = self._optim_submitted
        self._optim_submitted += 1
        lr_scale = self._backend.lr_scale

        def compute() -> types.OptimStepResponse:
            result = self._model.adam_step(adam, lr_scale)
            return types.OptimStepResponse(
                metrics={
                    "grad_norm": result.grad_norm,
                    "learning_rate_effective": result.learning_rate,
                }
            )

        return self._queue.submit("optim_step", step, compute, self._backend.latencies.optim_step)

    async def forward(
        self, data: Sequence[types.Datum], loss_fn: LossFn = "cross_entropy"
    ) -> types.ForwardBackwardOutput:
        batch, lengths = self._positions(data, loss_fn)
        return await self._queue.submit(
            "forward",
            self._optim_submitted,
            lambda: forward_output(*self._model.forward(batch), lengths),
            self._backend.latencies.forward,
        )

    def _meta(self) -> dict[str, Any]:
        return {
            "run_id": self._run_id,
            "base_model": self._base_model,
            "lora_rank": self.lora_rank,
            "seed": self.seed,
            "metadata": self.metadata,
            "vocab_size": self._backend.vocab_size,
            "ctx_buckets": self._backend.ctx_buckets,
            "optimizer_steps": self._model.adam_steps,
            "samplers_made": self._samplers_made,
        }

    async def save_state(self, name: str, ttl_s: int | None = None) -> str:
        return await self._save("save_state", "weights", name, ttl_s, optimizer=True)

    async def save_sampler_weights(self, name: str, ttl_s: int | None = None) -> str:
        return await self._save(
            "save_sampler_weights", "sampler_weights", name, ttl_s, optimizer=False
        )

    async def _save(
        self, op: str, kind: Any, name: str, ttl_s: int | None, *, optimizer: bool
    ) -> str:
        check_name(name)
        check_ttl(ttl_s)

        def compute() -> str:
            arrays = self._model.state_arrays(optimizer=optimizer)
            path = self._backend.store.save(self._run_id, kind, name, arrays, self._meta(), ttl_s)
            return str(path)

        return await self._queue.submit(
            op, self._optim_submitted, compute, self._backend.latencies.save
        )

    async def sampler(self) -> SimulatedSampler:
        """An ephemeral sampler on the weights as they are once every queued request is done."""

        def compute() -> SimulatedSampler:
            # counted when it runs, in queue order, so a checkpoint saved before it does not
            # count it (a resumed run then draws the same sampler seeds)
            index = self._samplers_made
            self._samplers_made += 1
            return SimulatedSampler(
                self._backend,
                self._model.weights().copy(),
                self._base_model,
                sampler_id=f"{self._run_id}/ephemeral/{index}",
                seed=_derive_seed(self.seed, "sampler", index),
            )

        return await self._queue.submit(
            "sampler", self._optim_submitted, compute, self._backend.latencies.save
        )

    async def aclose(self) -> None:
        await self._queue.drain()


class SimulatedBackend:
    """Creates and resumes simulated runs; checkpoints live under ``state_dir``."""

    name = "simulated"

    def __init__(
        self,
        state_dir: Path,
        *,
        latencies: SimulatedLatencies | None = None,
        models: Sequence[ModelCapability] = DEFAULT_MODELS,
        vocab_size: int = QWEN3_VOCAB_SIZE,
        ctx_buckets: int = 1024,
        lr_scale: float = 1000.0,
        eos_token_ids: Sequence[int] = QWEN3_EOS_TOKEN_IDS,
        decode: Decoder | None = None,
        seed: int = 0,
        clock: Any = time.time,
    ) -> None:
        if vocab_size < 2:
            raise BackendConfigError(f"vocab_size: at least 2 (got {vocab_size})")
        if ctx_buckets < 1:
            raise BackendConfigError(f"ctx_buckets: at least 1 (got {ctx_buckets})")
        self.state_dir = Path(state_dir)
        self.store = CheckpointStore(self.state_dir, clock=clock)
        self.latencies = latencies or SimulatedLatencies()
        self._models = {m.name: m for m in models}
        self.vocab_size = vocab_size
        self.ctx_buckets = ctx_buckets
        self.lr_scale = lr_scale
        self.eos_token_ids = tuple(t for t in eos_token_ids if 0 <= t < vocab_size)
        self.decode = decode
        self.seed = seed
        #: every request event of every run of this backend, in order
        self.events: list[RunEvent] = []
        self._runs_made = 0

    # ---- helpers the runs and samplers share --------------------------------------------------

    def context_length(self, base_model: str) -> int | None:
        model = self._models.get(base_model)
        return model.max_context_length if model else None

    async def timed(self, compute: Callable[[], T], latency_s: float) -> T:
        """Run ``compute`` in a worker thread while ``latency_s`` elapses; both must finish."""
        result, _ = await asyncio.gather(asyncio.to_thread(compute), asyncio.sleep(latency_s))
        return result

    def _capability(self, base_model: str, use: str) -> ModelCapability:
        model = self._models.get(base_model)
        if model is None:
            raise BackendConfigError(
                f"base model {base_model!r} is not offered by the simulated backend"
                f" (offered: {', '.join(sorted(self._models))})"
            )
        if not getattr(model, use):
            raise BackendConfigError(f"base model {base_model!r} is not {use}")
        return model

    # ---- the protocol -------------------------------------------------------------------------

    async def capabilities(self) -> list[ModelCapability]:
        return list(self._models.values())

    async def create_run(
        self,
        base_model: str,
        *,
        lora_rank: int,
        seed: int | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> SimulatedRun:
        self._capability(base_model, "trainable")
        if lora_rank < 1:
            raise BackendConfigError(f"lora_rank: at least 1 (got {lora_rank})")
        index = self._runs_made
        self._runs_made += 1
        return SimulatedRun(
            self,
            _new_run_id(),
            base_model,
            lora_rank=lora_rank,
            seed=seed if seed is not None else _derive_seed(self.seed, "run", index),
            model=TokenModel(self.vocab_size, self.ctx_buckets),
            metadata=metadata or {},
        )

    async def resume_run(self, state_path: str, *, with_optimizer: bool = True) -> SimulatedRun:
        path = CheckpointPath.parse(state_path)
        if path.kind != "weights":
            raise BackendError(
                f"{state_path}: training resumes only from a weights/ path (save_state)"
            )
        checkpoint = await asyncio.to_thread(self.store.load, path)
        meta = checkpoint.meta
        self._check_shape(meta, state_path)
        arrays = checkpoint.arrays
        if not with_optimizer:  # the weights only: Adam starts again from zero moments
            arrays = {k: v for k, v in arrays.items() if not k.endswith((".m", ".v"))}
            arrays["adam_steps"] = np.asarray(0, np.int64)
        model = TokenModel.from_arrays(arrays, self.vocab_size, self.ctx_buckets)
        return SimulatedRun(
            self,
            _new_run_id(),
            meta["base_model"],
            lora_rank=meta["lora_rank"],
            seed=meta["seed"],
            model=model,
            metadata=meta.get("metadata") or {},
            samplers_made=meta.get("samplers_made", 0),
        )

    async def sampler_for(self, model: str) -> SimulatedSampler:
        if not is_checkpoint_path(model):
            self._capability(model, "sampleable")
            weights = empty_weights(self.vocab_size, self.ctx_buckets)
            return SimulatedSampler(
                self, weights, model, sampler_id=model, seed=_derive_seed(self.seed, model, 0)
            )
        path = CheckpointPath.parse(model)
        checkpoint = await asyncio.to_thread(self.store.load, path)
        self._check_shape(checkpoint.meta, model)
        weights = weights_from_arrays(checkpoint.arrays, self.vocab_size, self.ctx_buckets)
        return SimulatedSampler(
            self,
            weights,
            checkpoint.meta["base_model"],
            sampler_id=model,
            seed=_derive_seed(self.seed, model, 0),
        )

    def _check_shape(self, meta: Mapping[str, Any], path: str) -> None:
        for key in ("vocab_size", "ctx_buckets"):
            if meta.get(key) != getattr(self, key):
                raise BackendConfigError(
                    f"{path}: saved with {key}={meta.get(key)}, this backend has"
                    f" {key}={getattr(self, key)}"
                )

    async def aclose(self) -> None:
        """Nothing to release: runs drain in their own ``aclose``."""


def _new_run_id() -> str:
    return f"sim-{uuid.uuid4().hex[:16]}"


def _derive_seed(seed: int, label: str, index: int) -> int:
    """A stable per-purpose seed (Python's ``hash`` of a str changes between processes)."""
    return int(
        np.random.SeedSequence([seed, zlib.crc32(label.encode()), index]).generate_state(1)[0]
    )
