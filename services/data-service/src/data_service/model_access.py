"""How jobs reach models: the endpoint from tutor-api's registry (REST), then a client for it.

The transports are injectable so tests put the simulator (or any wire-level double) behind a
real registry without a network.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import httpx
from tutorlab.cache import ResponseCache
from tutorlab.clients import ModelClient, build_client
from tutorlab.contracts.endpoints import ModelEndpoint
from tutorlab.fanout import FanoutOutcome, FanoutRequest, FanoutStats, fan_out
from tutorlab.jobs.runtime import JobFailed
from tutorlab.registry_client import RegistryClient, RegistryError

#: a job's progress report, ``(done, total)``
Progress = Callable[[int, int], Awaitable[None]]


class _Outcomes:
    """Every outcome of a fan-out by request id; reports the count after each batch."""

    def __init__(self, total: int, progress: Progress) -> None:
        self.total = total
        self.progress = progress
        self.by_id: dict[str, FanoutOutcome] = {}

    async def add(self, batch: list[FanoutOutcome]) -> None:
        for outcome in batch:
            self.by_id[outcome.id] = outcome
        await self.progress(len(self.by_id), self.total)


class ModelAccess:
    def __init__(
        self,
        registry: RegistryClient,
        *,
        model_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.registry = registry
        self.model_transport = model_transport

    async def endpoint(self, name: str, *, field: str = "model") -> ModelEndpoint:
        """The registered endpoint ``name``. A name tutor-api does not know fails the job
        (JobFailed naming the job's ``field``); tutor-api unreachable is a RegistryError."""
        try:
            return await self.registry.get_model(name)
        except RegistryError as exc:
            if exc.status_code in (404, 422):  # not registered; its key variable not allowed
                raise JobFailed(f"{field}: {exc}") from exc
            raise

    def client(self, endpoint: ModelEndpoint) -> ModelClient:
        """A new client for ``endpoint`` (the caller closes it)."""
        return build_client(endpoint, transport=self.model_transport)

    async def ask_all(
        self,
        endpoint: ModelEndpoint,
        requests: Sequence[FanoutRequest],
        *,
        cache: ResponseCache,
        progress: Progress,
        concurrency: int | None = None,
        epoch: int = 0,
    ) -> tuple[dict[str, FanoutOutcome], FanoutStats]:
        """Every request's outcome by id: fanned out to ``endpoint`` through the response
        cache (``epoch`` is part of its key) by a client made and closed here, ``concurrency``
        at a time (default: the endpoint's ``max_concurrency``), with ``progress(done, total)``
        after each batch."""
        outcomes = _Outcomes(len(requests), progress)
        client = self.client(endpoint)
        try:
            stats = await fan_out(
                client,
                requests,
                outcomes.add,
                concurrency=concurrency or endpoint.max_concurrency,
                cache=cache,
                epoch=epoch,
            )
        finally:
            await client.aclose()
        return outcomes.by_id, stats

    async def aclose(self) -> None:
        await self.registry.aclose()
