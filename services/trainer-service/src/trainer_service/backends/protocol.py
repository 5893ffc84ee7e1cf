"""The training backend: the one seam between the trainer and whatever trains the weights.

The trainer's loops (SFT, distillation, RLVR) speak only this protocol. Two implementations:
:mod:`trainer_service.backends.tinker_backend` (the Tinker SDK; the only module that imports
``tinker`` for its clients) and :mod:`trainer_service.backends.simulated` (a small in-memory model
that really learns, for tests and the demo). Both take and return the SDK's own value types
(``tinker.types.Datum``, ``ForwardBackwardOutput``, ``SampleResponse`` …), so a loop that works
on one works on the other.

Submitting and awaiting are separate: ``submit_forward_backward`` and ``submit_optim_step``
return as soon as the request is queued, with an awaitable for its result, so a loop can queue
step *k*'s optimizer step (and step *k+1*'s forward-backward) before it waits for step *k*.
The backend runs the requests of one run in the order they were submitted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from tinker import types

#: the loss functions the trainer uses
LossFn = Literal["cross_entropy", "importance_sampling"]


class BackendError(Exception):
    """A backend request failed; the message says which and why."""


class BackendConfigError(BackendError):
    """The backend cannot start (missing or malformed key, unknown model …); the message names
    the setting or environment variable to fix."""


@dataclass(frozen=True)
class ModelCapability:
    """What the server says about one base model."""

    name: str
    trainable: bool
    sampleable: bool
    max_context_length: int | None


@runtime_checkable
class Sampler(Protocol):
    """Samples from, and scores tokens under, one set of weights."""

    async def sample(
        self, prompt: types.ModelInput, num_samples: int, params: types.SamplingParams
    ) -> types.SampleResponse:
        """``num_samples`` completions of ``prompt``, each with its tokens' logprobs."""
        ...

    async def compute_logprobs(self, prompt: types.ModelInput) -> list[float | None]:
        """The logprob of every token of ``prompt`` given the ones before it (None for the
        first)."""
        ...


@runtime_checkable
class TrainingRun(Protocol):
    """One LoRA training run on one base model."""

    @property
    def run_id(self) -> str: ...

    @property
    def base_model(self) -> str: ...

    async def submit_forward_backward(
        self, data: Sequence[types.Datum], loss_fn: LossFn
    ) -> Awaitable[types.ForwardBackwardOutput]:
        """Queue a forward-backward pass (gradients accumulate until the next optimizer step);
        returns once queued, with an awaitable for the output (per-datum ``logprobs`` and
        ``metrics``, e.g. ``loss:sum``)."""
        ...

    async def submit_optim_step(self, adam: types.AdamParams) -> Awaitable[types.OptimStepResponse]:
        """Queue an optimizer step over the accumulated gradients."""
        ...

    async def forward(
        self, data: Sequence[types.Datum], loss_fn: LossFn = "cross_entropy"
    ) -> types.ForwardBackwardOutput:
        """A forward pass only (no gradients): evaluation loss and per-token logprobs."""
        ...

    async def save_state(self, name: str, ttl_s: int | None = None) -> str:
        """Save weights and optimizer state; returns the ``tinker://…/weights/<name>`` path a
        run resumes from. ``ttl_s`` None keeps it until deleted."""
        ...

    async def save_sampler_weights(self, name: str, ttl_s: int | None = None) -> str:
        """Save weights for sampling; returns the ``tinker://…/sampler_weights/<name>`` path
        that can be registered as a model endpoint."""
        ...

    async def sampler(self) -> Sampler:
        """A sampler on the current weights (ephemeral: for sampling during training only)."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class TrainingBackend(Protocol):
    """Creates and resumes training runs, and samplers on saved or base weights."""

    name: str

    async def capabilities(self) -> list[ModelCapability]:
        """The base models the server offers."""
        ...

    async def create_run(
        self,
        base_model: str,
        *,
        lora_rank: int,
        seed: int | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> TrainingRun:
        """A new LoRA training run on ``base_model`` (a Hugging Face id, e.g. Qwen/Qwen3-8B)."""
        ...

    async def resume_run(self, state_path: str, *, with_optimizer: bool = True) -> TrainingRun:
        """A run continued from a ``save_state`` path, optimizer state included; with
        ``with_optimizer=False``, a new run that starts from those weights with a fresh
        optimizer (e.g. RL on top of an SFT run)."""
        ...

    async def sampler_for(self, model: str) -> Sampler:
        """A sampler on saved sampler weights (a ``tinker://`` path) or on a base model."""
        ...

    async def aclose(self) -> None: ...
