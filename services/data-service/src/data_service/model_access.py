"""How jobs reach models: the endpoint from tutor-api's registry (REST), then a client for it.

The transports are injectable so tests put the simulator (or any wire-level double) behind a
real registry without a network.
"""

from __future__ import annotations

import httpx
from tutorlab.clients import ModelClient, build_client
from tutorlab.contracts.endpoints import ModelEndpoint
from tutorlab.registry_client import RegistryClient


class ModelAccess:
    def __init__(
        self,
        registry: RegistryClient,
        *,
        model_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.registry = registry
        self.model_transport = model_transport

    async def endpoint(self, name: str) -> ModelEndpoint:
        """The registered endpoint ``name``; RegistryError says why when there is none."""
        return await self.registry.get_model(name)

    def client(self, endpoint: ModelEndpoint) -> ModelClient:
        """A new client for ``endpoint`` (the caller closes it)."""
        return build_client(endpoint, transport=self.model_transport)

    async def aclose(self) -> None:
        await self.registry.aclose()
