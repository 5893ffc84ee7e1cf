"""The interface every model client implements."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol, runtime_checkable

from tutorlab.clients.payload import Messages
from tutorlab.clients.results import ChatChunk, ChatResult
from tutorlab.contracts.endpoints import ModelEndpoint, ModelParams


@runtime_checkable
class ModelClient(Protocol):
    """Chat with one registered endpoint. Raises ModelEndpointError for endpoint failures.

    ``stream`` returns an async generator: consume it fully or close it (``contextlib.aclosing``)
    so its connection and concurrency slot are released promptly.
    """

    endpoint: ModelEndpoint

    async def chat(
        self, messages: Messages, params: ModelParams | Mapping[str, Any] | None = None
    ) -> ChatResult: ...

    def stream(
        self, messages: Messages, params: ModelParams | Mapping[str, Any] | None = None
    ) -> AsyncIterator[ChatChunk]: ...

    async def list_models(self) -> list[str]: ...

    async def aclose(self) -> None: ...
