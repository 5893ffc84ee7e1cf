"""``TinkerBackend``: the training backend on Tinker's service, through the ``tinker`` SDK (0.38).

The only module that imports the SDK's clients (others import ``tinker.types`` for values). It
uses the SDK's plain methods, which return awaitable futures at once (not the deprecated
``*_async`` methods), so ``submit_forward_backward`` and ``submit_optim_step`` return as soon as
the request is queued and a loop can pipeline them.

The SDK's first use of a client makes blocking round trips (client config, session creation) and
retries an unreachable server for a very long time. So every call that may do that (connecting,
creating a training or sampling client) runs in a daemon thread (:mod:`.blocking`) bounded by
``connect_timeout_s``; the event loop never blocks on the network, and an unreachable server is a
``BackendError`` after the timeout rather than a hung worker. Capabilities are fetched once, when
connecting (``RestClient.get_server_capabilities``; the ``ServiceClient`` one is deprecated).

Tests replace the SDK at its edge: ``connector`` builds the clients, and a fake one mimics their
method signatures (see tests/unit/test_trainer_backend_tinker.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import tinker
from tinker import types

from .blocking import run_blocking
from .protocol import BackendConfigError, BackendError, LossFn, ModelCapability
from .tinker_paths import CheckpointPath, check_name, check_ttl, is_checkpoint_path

log = logging.getLogger(__name__)

T = TypeVar("T")

API_KEY_ENV = "TINKER_API_KEY"
#: what the SDK accepts (tinker/lib/_auth_token_provider.py: ApiKeyAuthProvider): an API key
#: starts with "tml-"; a JWT (dynamic credential) with "eyJ"
API_KEY_PREFIXES = ("tml-", "eyJ")


def check_api_key(api_key: str | None) -> str:
    """The key, stripped; BackendConfigError naming TINKER_API_KEY when missing or malformed.
    The message never contains the key."""
    key = (api_key or "").strip()
    if not key:
        raise BackendConfigError(
            f"{API_KEY_ENV} is not set: put your Tinker API key in the environment or in .env"
        )
    if not key.startswith(API_KEY_PREFIXES) or len(key) <= 4 or any(c.isspace() for c in key):
        raise BackendConfigError(
            f"{API_KEY_ENV} is malformed: a Tinker API key starts with 'tml-' and has no spaces"
        )
    return key


# ---- the SDK surface this module uses (what a fake must provide) ------------------------------


class SamplingClientLike(Protocol):
    def sample(
        self, prompt: types.ModelInput, num_samples: int, sampling_params: types.SamplingParams
    ) -> Awaitable[types.SampleResponse]: ...

    def compute_logprobs(self, prompt: types.ModelInput) -> Awaitable[list[float | None]]: ...


class TrainingClientLike(Protocol):
    def get_info(self) -> types.GetInfoResponse: ...

    def forward_backward(
        self, data: list[types.Datum], loss_fn: types.LossFnType
    ) -> Awaitable[types.ForwardBackwardOutput]: ...

    def forward(
        self, data: list[types.Datum], loss_fn: types.LossFnType
    ) -> Awaitable[types.ForwardBackwardOutput]: ...

    def optim_step(self, optim_params: types.AdamParams) -> Awaitable[types.OptimStepResponse]: ...

    def save_state(
        self, name: str, ttl_seconds: int | None = None
    ) -> Awaitable[types.SaveWeightsResponse]: ...

    def save_weights_for_sampler(
        self, name: str, ttl_seconds: int | None = None
    ) -> Awaitable[types.SaveWeightsForSamplerResponse]: ...

    def save_weights_and_get_sampling_client(self) -> Awaitable[SamplingClientLike]: ...


class ServiceClientLike(Protocol):
    def create_lora_training_client(
        self,
        base_model: str,
        rank: int = 32,
        seed: int | None = None,
        *,
        user_metadata: dict[str, str] | None = None,
    ) -> Awaitable[TrainingClientLike]: ...

    def create_training_client_from_state_with_optimizer(
        self, path: str
    ) -> Awaitable[TrainingClientLike]: ...

    def create_training_client_from_state(self, path: str) -> Awaitable[TrainingClientLike]: ...

    def create_sampling_client(
        self, model_path: str | None = None, base_model: str | None = None
    ) -> Awaitable[SamplingClientLike]: ...

    def close(self, status: Any) -> Awaitable[None]: ...


class CapabilitiesFuture(Protocol):
    def result(self, timeout: float | None = None) -> types.GetServerCapabilitiesResponse: ...


class RestClientLike(Protocol):
    def get_server_capabilities(self) -> CapabilitiesFuture: ...


class TinkerConnector(Protocol):
    """Builds the SDK's clients (the seam tests replace). Called in a worker thread: it may
    block."""

    def rest_client(self, *, api_key: str, base_url: str | None) -> RestClientLike: ...

    def service_client(self, *, api_key: str, base_url: str | None) -> ServiceClientLike: ...


class SdkConnector:
    """The real SDK."""

    def rest_client(self, *, api_key: str, base_url: str | None) -> RestClientLike:
        return tinker.RestClient(api_key=api_key, base_url=base_url)

    def service_client(self, *, api_key: str, base_url: str | None) -> ServiceClientLike:
        return tinker.ServiceClient(api_key=api_key, base_url=base_url)


# ---- mapping SDK outcomes to the protocol's errors -------------------------------------------


async def _sdk(awaitable: Awaitable[T], what: str) -> T:
    """Await an SDK future, turning its failures into BackendError (auth: BackendConfigError)."""
    try:
        return await awaitable
    except tinker.AuthenticationError as exc:
        raise BackendConfigError(
            f"{what}: Tinker rejected the key in {API_KEY_ENV} (HTTP {exc.status_code})"
        ) from exc
    except tinker.PermissionDeniedError as exc:
        raise BackendConfigError(
            f"{what}: the key in {API_KEY_ENV} may not do this (HTTP {exc.status_code})"
        ) from exc
    except (asyncio.CancelledError, BackendError):
        raise
    except Exception as exc:
        raise BackendError(f"{what} failed: {type(exc).__name__}: {exc}") from exc


def _capability(model: types.SupportedModel) -> ModelCapability | None:
    if not model.model_name:
        return None
    # a server that leaves the flags out offers the model for both
    return ModelCapability(
        name=model.model_name,
        trainable=model.trainable is not False,
        sampleable=model.sampleable is not False,
        max_context_length=model.max_context_length,
    )


# ---- the protocol ----------------------------------------------------------------------------


class TinkerSampler:
    """A Tinker ``SamplingClient``."""

    def __init__(self, client: SamplingClientLike, model: str) -> None:
        self._client = client
        self.model = model

    async def sample(
        self, prompt: types.ModelInput, num_samples: int, params: types.SamplingParams
    ) -> types.SampleResponse:
        return await _sdk(self._client.sample(prompt, num_samples, params), "sample")

    async def compute_logprobs(self, prompt: types.ModelInput) -> list[float | None]:
        return await _sdk(self._client.compute_logprobs(prompt), "compute_logprobs")


class TinkerRun:
    """A Tinker ``TrainingClient``: one LoRA run."""

    def __init__(self, client: TrainingClientLike) -> None:
        self._client = client
        info = client.get_info()
        self._run_id = str(info.model_id)
        self._base_model = info.model_data.model_name or info.model_name or ""

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def base_model(self) -> str:
        return self._base_model

    def _submit(self, make: Callable[[], Awaitable[T]], what: str) -> asyncio.Task[T]:
        try:
            future = make()
        except (ValueError, TypeError, RuntimeError) as exc:  # refused before it was sent
            raise BackendError(f"{what}: {exc}") from exc
        return asyncio.ensure_future(_sdk(future, what))

    async def submit_forward_backward(
        self, data: Sequence[types.Datum], loss_fn: LossFn
    ) -> Awaitable[types.ForwardBackwardOutput]:
        return self._submit(
            lambda: self._client.forward_backward(list(data), loss_fn), "forward_backward"
        )

    async def submit_optim_step(self, adam: types.AdamParams) -> Awaitable[types.OptimStepResponse]:
        return self._submit(lambda: self._client.optim_step(adam), "optim_step")

    async def forward(
        self, data: Sequence[types.Datum], loss_fn: LossFn = "cross_entropy"
    ) -> types.ForwardBackwardOutput:
        return await self._submit(lambda: self._client.forward(list(data), loss_fn), "forward")

    async def save_state(self, name: str, ttl_s: int | None = None) -> str:
        check_name(name)
        ttl = check_ttl(ttl_s)
        response = await self._submit(
            lambda: self._client.save_state(name, ttl_seconds=ttl), "save_state"
        )
        return response.path

    async def save_sampler_weights(self, name: str, ttl_s: int | None = None) -> str:
        check_name(name)
        ttl = check_ttl(ttl_s)
        response = await self._submit(
            lambda: self._client.save_weights_for_sampler(name, ttl_seconds=ttl),
            "save_weights_for_sampler",
        )
        return response.path

    async def sampler(self) -> TinkerSampler:
        """Ephemeral: for sampling during training only; register save_sampler_weights paths."""
        client = await self._submit(
            self._client.save_weights_and_get_sampling_client,
            "save_weights_and_get_sampling_client",
        )
        return TinkerSampler(client, f"{self._run_id} (ephemeral)")

    async def aclose(self) -> None:
        """Nothing to release per run: the backend's session owns the connections."""


@dataclass
class _Clients:
    rest: RestClientLike
    service: ServiceClientLike
    models: list[ModelCapability]


class TinkerBackend:
    """Training runs and samplers on Tinker."""

    name = "tinker"

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None = None,
        connect_timeout_s: float = 60.0,
        connector: TinkerConnector | None = None,
    ) -> None:
        self._api_key = check_api_key(api_key)
        if connect_timeout_s <= 0:
            raise BackendConfigError(f"connect_timeout_s: must be positive ({connect_timeout_s})")
        self._base_url = base_url or None
        self._connect_timeout_s = connect_timeout_s
        self._connector: TinkerConnector = connector or SdkConnector()
        self._clients: _Clients | None = None
        self._connecting = asyncio.Lock()

    def __repr__(self) -> str:  # never the key
        return f"TinkerBackend(base_url={self._base_url!r})"

    async def _blocking(self, fn: Callable[[], T], what: str) -> T:
        """A possibly blocking SDK call, in a daemon thread, bounded by ``connect_timeout_s``."""
        where = self._base_url or "the default Tinker URL"
        try:
            return await run_blocking(fn, timeout_s=self._connect_timeout_s, name=f"tinker {what}")
        except TimeoutError as exc:
            raise BackendError(
                f"{what}: no answer from {where} within {self._connect_timeout_s:g} s"
                " (connect_timeout_s); check the network and TRAINER_SERVICE_TINKER_BASE_URL"
            ) from exc

    def _connect_blocking(self) -> _Clients:
        rest = self._connector.rest_client(api_key=self._api_key, base_url=self._base_url)
        response = rest.get_server_capabilities().result(timeout=self._connect_timeout_s)
        models = [m for m in map(_capability, response.supported_models) if m is not None]
        service = self._connector.service_client(api_key=self._api_key, base_url=self._base_url)
        return _Clients(rest, service, models)

    async def _connect(self) -> _Clients:
        async with self._connecting:
            if self._clients is None:
                self._clients = await _sdk(
                    self._blocking(self._connect_blocking, "connect to Tinker"),
                    "connect to Tinker",
                )
                log.info("connected to Tinker: %d base models", len(self._clients.models))
            return self._clients

    def _model(self, clients: _Clients, base_model: str, use: str) -> ModelCapability:
        for model in clients.models:
            if model.name == base_model:
                if not getattr(model, use):
                    raise BackendConfigError(f"base model {base_model!r} is not {use} on Tinker")
                return model
        offered = ", ".join(sorted(m.name for m in clients.models)) or "none"
        raise BackendConfigError(
            f"base model {base_model!r} is not offered by Tinker (offered: {offered})"
        )

    async def capabilities(self) -> list[ModelCapability]:
        return list((await self._connect()).models)

    async def create_run(
        self,
        base_model: str,
        *,
        lora_rank: int,
        seed: int | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> TinkerRun:
        clients = await self._connect()
        self._model(clients, base_model, "trainable")
        if lora_rank < 1:
            raise BackendConfigError(f"lora_rank: at least 1 (got {lora_rank})")
        future = await self._blocking(
            lambda: clients.service.create_lora_training_client(
                base_model,
                rank=lora_rank,
                seed=seed,
                user_metadata=dict(metadata) if metadata else None,
            ),
            "create_lora_training_client",
        )
        client = await _sdk(future, "create_lora_training_client")
        return TinkerRun(client)

    async def resume_run(self, state_path: str, *, with_optimizer: bool = True) -> TinkerRun:
        if CheckpointPath.parse(state_path).kind != "weights":
            raise BackendError(
                f"{state_path}: training resumes only from a weights/ path (save_state)"
            )
        clients = await self._connect()
        if with_optimizer:
            what = "create_training_client_from_state_with_optimizer"
            make = lambda: clients.service.create_training_client_from_state_with_optimizer(  # noqa: E731
                state_path
            )
        else:
            what = "create_training_client_from_state"
            make = lambda: clients.service.create_training_client_from_state(state_path)  # noqa: E731
        future = await self._blocking(make, what)
        return TinkerRun(await _sdk(future, what))

    async def sampler_for(self, model: str) -> TinkerSampler:
        clients = await self._connect()
        if is_checkpoint_path(model):
            CheckpointPath.parse(model)
            make = lambda: clients.service.create_sampling_client(model_path=model)  # noqa: E731
        else:
            self._model(clients, model, "sampleable")
            make = lambda: clients.service.create_sampling_client(base_model=model)  # noqa: E731
        future = await self._blocking(make, "create_sampling_client")
        return TinkerSampler(await _sdk(future, "create_sampling_client"), model)

    async def aclose(self) -> None:
        """Finish the session (the SDK's heartbeats and connections stop)."""
        clients, self._clients = self._clients, None
        if clients is None:
            return
        try:
            await asyncio.wait_for(_sdk(clients.service.close("success"), "close"), 10.0)
        except (BackendError, TimeoutError) as exc:
            log.warning("closing the Tinker session: %s", exc)
