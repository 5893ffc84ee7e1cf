"""What the protocol clients share: the endpoint, its HTTP layer, request defaults, lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Self, TypeVar

import httpx

from tutorlab.clients.payload import call_params
from tutorlab.clients.retry import RetryPolicy
from tutorlab.clients.wire import EndpointHttp
from tutorlab.contracts.endpoints import ModelEndpoint, ModelParams

Fields = TypeVar("Fields")


class EndpointClient(Generic[Fields]):
    """Base of :class:`OllamaClient` and :class:`OpenAICompatClient`.

    A subclass says how sampling params become request fields (``_fields``); the fields of the
    endpoint's registered params are computed once, since most calls add none.
    """

    def __init__(
        self,
        endpoint: ModelEndpoint,
        *,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._wire = EndpointHttp(
            endpoint, retry=retry or RetryPolicy(), transport=transport, env=env
        )
        self._default_fields = self._fields(endpoint.params.model_dump(exclude_none=True))
        self._last_fields: tuple[ModelParams, Fields] | None = None

    def _fields(self, params: Mapping[str, Any]) -> Fields:
        raise NotImplementedError

    def _call_fields(self, params: ModelParams | Mapping[str, Any] | None) -> Fields:
        """The request fields for a call's params. The fields of the last ModelParams object
        are kept: a benchmark sends thousands of requests with one params object (which,
        like every ModelParams handed to a client, is not changed after it is built)."""
        if params is None:
            return self._default_fields
        last = self._last_fields
        if last is not None and last[0] is params:
            return last[1]
        fields = self._fields(call_params(self.endpoint.params, params))
        if isinstance(params, ModelParams):
            self._last_fields = (params, fields)
        return fields

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(endpoint={self.endpoint.name!r}, model={self.endpoint.model!r})"
        )

    async def aclose(self) -> None:
        await self._wire.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
