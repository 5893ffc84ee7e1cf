"""One model client per registered endpoint, rebuilt when the endpoint changes."""

from __future__ import annotations

from collections.abc import Sequence

from tutorlab.clients import ModelClient, RetryPolicy, build_client
from tutorlab.contracts.endpoints import DEFAULT_KEY_ENVS, check_key_env

from tutor_api.models import ModelEndpointRow


class EndpointClients:
    """``retry`` is the policy of every client built here (None: the clients' default);
    ``key_envs`` the variables a client may read its key from (an endpoint registered before the
    allow-list that names another gets no client: KeyEnvNotAllowed)."""

    def __init__(
        self, *, retry: RetryPolicy | None = None, key_envs: Sequence[str] = DEFAULT_KEY_ENVS
    ) -> None:
        self.retry = retry
        self.key_envs = tuple(key_envs)
        self._clients: dict[str, tuple[str, ModelClient]] = {}

    async def get(self, row: ModelEndpointRow) -> ModelClient:
        check_key_env(row.api_key_env, self.key_envs)
        cached = self._clients.get(row.name)
        fingerprint = row.fingerprint()
        if cached is not None:
            if cached[0] == fingerprint:
                return cached[1]
            await cached[1].aclose()
        client = build_client(row.to_endpoint(), retry=self.retry)
        self._clients[row.name] = (fingerprint, client)
        return client

    async def forget(self, name: str) -> None:
        cached = self._clients.pop(name, None)
        if cached is not None:
            await cached[1].aclose()

    async def aclose(self) -> None:
        for _, client in self._clients.values():
            await client.aclose()
        self._clients.clear()
