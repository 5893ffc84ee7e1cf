"""How other services read the model registry: over REST from tutor-api, never its tables."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from tutorlab.contracts.endpoints import (
    DEFAULT_KEY_ENVS,
    KeyEnvNotAllowed,
    ModelEndpoint,
    check_key_env,
)


class RegistryError(Exception):
    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class RegistryClient:
    """``key_envs``: the variables this service lets a model's client read a key from (its
    ``model_key_envs``); a registered model naming another is refused (RegistryError, 422), so
    no key goes to a URL the allow-list did not vouch for, whatever the registry holds."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 10.0,
        key_envs: Sequence[str] = DEFAULT_KEY_ENVS,
    ) -> None:
        self.key_envs = tuple(key_envs)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=headers, transport=transport, timeout=timeout_s
        )

    async def get_model(self, name: str) -> ModelEndpoint:
        try:
            response = await self._http.get(f"/models/{name}")
        except httpx.HTTPError as exc:
            raise RegistryError(f"tutor-api unreachable at {self._http.base_url}: {exc}") from exc
        if response.status_code == 404:
            raise RegistryError(f"model {name!r} is not registered in tutor-api", 404)
        if response.status_code >= 400:
            raise RegistryError(
                f"tutor-api answered {response.status_code} for model {name!r}: "
                f"{response.text[:200]}",
                response.status_code,
            )
        endpoint = ModelEndpoint.model_validate(response.json())
        try:
            check_key_env(endpoint.api_key_env, self.key_envs)
        except KeyEnvNotAllowed as exc:
            raise RegistryError(f"model {name!r}: {exc}", 422) from exc
        return endpoint

    async def active_model(self) -> str | None:
        """The name of the active model, or None."""
        try:
            response = await self._http.get("/models")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise RegistryError(f"tutor-api model list failed: {exc}") from exc
        return next((m["name"] for m in response.json() if m.get("active")), None)

    async def aclose(self) -> None:
        await self._http.aclose()
