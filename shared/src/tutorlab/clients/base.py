"""What the protocol clients share: the endpoint, its HTTP layer, request defaults, the chat
calls (whole and streamed), lifecycle."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, ClassVar, Generic, Self, TypeVar

import httpx

from tutorlab.clients.payload import Messages, call_params
from tutorlab.clients.results import ChatChunk, ChatResult
from tutorlab.clients.retry import RetryPolicy
from tutorlab.clients.wire import EndpointHttp
from tutorlab.contracts.chat import Usage
from tutorlab.contracts.endpoints import ModelEndpoint, ModelParams

Fields = TypeVar("Fields")
#: a whole reply's fields: text, reasoning, finish reason, usage, model, server timings
ParsedChat = tuple[str, str | None, str | None, Usage, str, dict[str, float] | None]


class EndpointClient(Generic[Fields]):
    """Base of :class:`OllamaClient` and :class:`OpenAICompatClient`.

    A subclass says where its chat endpoint is (``chat_path``), how sampling params become
    request fields (``_fields``) and a body (``_body``), and how a whole reply and a stream read
    (``_parse_chat``, ``decode_stream``). The fields of the endpoint's registered params are
    computed once, since most calls add none.
    """

    chat_path: ClassVar[str]

    @staticmethod
    def decode_stream(chunks: AsyncIterator[bytes]) -> AsyncGenerator[ChatChunk, None]:
        """A streamed reply's chunks, decoded from the wire format."""
        raise NotImplementedError

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

    def _body(
        self, messages: Messages, params: ModelParams | Mapping[str, Any] | None, stream: bool
    ) -> bytes:
        raise NotImplementedError

    def _parse_chat(self, data: Any) -> ParsedChat:
        raise NotImplementedError

    async def chat(
        self, messages: Messages, params: ModelParams | Mapping[str, Any] | None = None
    ) -> ChatResult:
        body = self._body(messages, params, stream=False)
        parsed, latency_ms, attempts = await self._wire.request(
            "POST", self.chat_path, body, self._parse_chat
        )
        text, reasoning, finish_reason, usage, model, timings = parsed
        return ChatResult(
            text, reasoning, finish_reason, usage, latency_ms, attempts, model, timings
        )

    def stream(
        self, messages: Messages, params: ModelParams | Mapping[str, Any] | None = None
    ) -> AsyncIterator[ChatChunk]:
        """Chunks of the reply; the last has ``done=True``, the finish reason and usage."""
        body = self._body(messages, params, stream=True)
        return self._wire.stream(self.chat_path, body, self.decode_stream)

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
