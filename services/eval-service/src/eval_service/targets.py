"""What a benchmark runs against: a registered model endpoint, or the tutor-api itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from tutorlab.clients import ChatResult, ModelClient, RetryPolicy, build_client
from tutorlab.clients.wire import EndpointHttp, dumps
from tutorlab.contracts.chat import ChatMessage, Usage
from tutorlab.contracts.endpoints import EndpointKind, ModelEndpoint, ModelParams
from tutorlab.registry_client import RegistryClient, RegistryError
from tutorlab.tutoring import PROMPT_VERSION

TUTOR_API_TARGET = "tutor-api"
_KEY_ENV = "TUTORLAB_API_KEY"


class TargetError(Exception):
    pass


@dataclass
class Target:
    kind: str  # "model" | "tutor-api"
    name: str
    client: ModelClient
    endpoint: ModelEndpoint
    #: what goes into the results file about the target (never a key)
    describe: dict[str, Any]


class TutorApiClient:
    """Runs a benchmark through ``POST /chat``, the path students use.

    Each request's ``params`` carry ``mode`` and ``grade``; ``messages`` end with the student's
    turn. Transport, retries and deadline are the model clients' own (``EndpointHttp``).
    """

    def __init__(
        self,
        endpoint: ModelEndpoint,
        *,
        model: str | None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.model = model
        self._http = EndpointHttp(
            endpoint, retry=retry or RetryPolicy(), transport=transport, env=env
        )

    async def chat(
        self,
        messages: Sequence[ChatMessage] | Sequence[dict[str, Any]],
        params: ModelParams | None = None,
    ) -> ChatResult:
        extra = (params.model_extra or {}) if params is not None else {}
        last = messages[-1]
        content = last.content if isinstance(last, ChatMessage) else last["content"]
        body = dumps(
            {
                "message": content,
                "mode": extra.get("mode", "solve"),
                "grade": extra.get("grade", 6),
                "model": self.model,
            }
        )
        data, latency_ms, attempts = await self._http.request("POST", "/chat", body, _reply)
        return ChatResult(
            text=data["reply"],
            reasoning=data.get("reasoning"),
            finish_reason=data.get("finish_reason"),
            usage=Usage.model_validate(data.get("usage") or {}),
            latency_ms=latency_ms,
            attempts=attempts,
            model=data.get("model", ""),
        )

    def stream(self, messages: Any, params: Any = None) -> Any:
        raise NotImplementedError("benchmarks call /chat without streaming")

    async def list_models(self) -> list[str]:
        data, _, _ = await self._http.request("GET", "/models", None, lambda d: d)
        return [m["name"] for m in data]

    async def aclose(self) -> None:
        await self._http.aclose()


def _reply(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("reply"), str):
        raise ValueError("a /chat reply has a string 'reply'")
    return data


async def resolve_target(
    target: str,
    model: str | None,
    *,
    registry: RegistryClient,
    tutor_api_url: str,
    api_key: str | None = None,
    retry: RetryPolicy | None = None,
    concurrency: int | None = None,
    registered: ModelEndpoint | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    tutor_api_transport: httpx.AsyncBaseTransport | None = None,
) -> Target:
    """Fetch the endpoint from the registry (REST), unless ``registered`` (the model's
    registration read when the job was submitted) gives it, and build its client.

    ``concurrency`` (a job's override) replaces the registered ``max_concurrency`` for this
    client: the client's own connection pool and semaphore are sized from it. ``transport``
    (a model endpoint's) and ``tutor_api_transport`` swap the network for tests.
    """

    async def lookup(name: str) -> ModelEndpoint:
        if registered is not None and registered.name == name:
            return registered
        try:
            return await registry.get_model(name)
        except RegistryError as exc:
            raise TargetError(str(exc)) from exc

    if target == TUTOR_API_TARGET:
        active = model or await registry.active_model()
        if active is None:
            raise TargetError("tutor-api has no active model: activate one or pass model")
        backing = await lookup(active)
        endpoint = ModelEndpoint(
            name=TUTOR_API_TARGET,
            kind=EndpointKind.openai,
            base_url=tutor_api_url,
            model=f"tutor-api/{backing.name}/{backing.model}/{PROMPT_VERSION}",
            max_concurrency=concurrency or backing.max_concurrency,
            api_key_env=_KEY_ENV if api_key else None,
        )
        client = TutorApiClient(
            endpoint,
            model=active,
            retry=retry,
            transport=tutor_api_transport,
            env={_KEY_ENV: api_key} if api_key else {},
        )
        return Target(
            "tutor-api",
            active,
            client,  # type: ignore[arg-type]
            endpoint,
            {"target": "tutor-api", "via": tutor_api_url, **_describe(backing)},
        )
    if not model:
        raise TargetError("model: a registered model name is required")
    endpoint = await lookup(model)
    sized = (
        endpoint.model_copy(update={"max_concurrency": concurrency}) if concurrency else endpoint
    )
    return Target(
        "model",
        model,
        build_client(sized, retry=retry, transport=transport),
        sized,
        _describe(endpoint),
    )


@dataclass
class TargetResolver:
    """What a worker resolves benchmark targets (and judges) with: the registry it asks,
    tutor-api's URL and key, and the transports tests mount apps on (None: the network)."""

    registry: RegistryClient
    tutor_api_url: str
    api_key: str | None = None
    #: model endpoints' transport (the simulator in tests)
    model_transport: httpx.AsyncBaseTransport | None = None
    #: tutor-api's, for a run through its ``/chat``
    tutor_api_transport: httpx.AsyncBaseTransport | None = None

    async def resolve(
        self,
        target: str,
        model: str | None,
        *,
        retry: RetryPolicy | None = None,
        concurrency: int | None = None,
        registered: ModelEndpoint | None = None,
    ) -> Target:
        """:func:`resolve_target` with this worker's registry, key and transports."""
        return await resolve_target(
            target,
            model,
            registry=self.registry,
            tutor_api_url=self.tutor_api_url,
            api_key=self.api_key,
            retry=retry,
            concurrency=concurrency,
            registered=registered,
            transport=self.model_transport,
            tutor_api_transport=self.tutor_api_transport,
        )

    async def aclose(self) -> None:
        await self.registry.aclose()


def _describe(endpoint: ModelEndpoint) -> dict[str, Any]:
    return {
        "name": endpoint.name,
        "kind": endpoint.kind.value,
        "model": endpoint.model,
        "base_url": endpoint.base_url,
        "params": endpoint.params.model_dump(exclude_none=True),
        "max_concurrency": endpoint.max_concurrency,
    }
