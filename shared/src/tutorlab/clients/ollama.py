"""Client for Ollama's native API: ``POST /api/chat`` (NDJSON stream or one JSON), ``/api/tags``.

Ollama streams unless told otherwise, so ``"stream": false`` is always sent for a whole reply;
its default context (4096 tokens) silently truncates longer prompts, so ``options.num_ctx`` is
always sent (param ``num_ctx``, default 8192). Durations on the wire are nanoseconds.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any

from tutorlab.clients.base import EndpointClient, ParsedChat
from tutorlab.clients.errors import AttemptFailure
from tutorlab.clients.framing import ndjson_lines
from tutorlab.clients.payload import Messages, wire_messages
from tutorlab.clients.results import ChatChunk, make_usage
from tutorlab.clients.think import ReasoningStream, reply_and_reasoning
from tutorlab.clients.wire import dumps, loads_line, malformed
from tutorlab.contracts.chat import Usage
from tutorlab.contracts.endpoints import ModelParams

DEFAULT_NUM_CTX = 8192
#: Params that are top-level request fields; every other param goes into ``options``.
_TOP_LEVEL = frozenset({"think", "format", "keep_alive", "tools"})
_DURATIONS = ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration")


def ollama_fields(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(top_level, options)`` for /api/chat from merged params (max_tokens → num_predict)."""
    top: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, value in params.items():
        if key == "max_tokens":
            options["num_predict"] = value
        elif key in _TOP_LEVEL:
            top[key] = value
        elif key == "options" and isinstance(value, Mapping):
            options.update(value)
        else:
            options[key] = value
    options.setdefault("num_ctx", DEFAULT_NUM_CTX)
    return top, options


def _error_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _usage(data: Mapping[str, Any]) -> Usage:
    return make_usage(data.get("prompt_eval_count"), data.get("eval_count"))


def _timings(data: Mapping[str, Any]) -> dict[str, float] | None:
    timings = {
        key.replace("_duration", "_ms"): value / 1e6
        for key in _DURATIONS
        if type(value := data.get(key)) is int
    }
    return timings or None


async def _decode_stream(chunks: AsyncIterator[bytes]) -> AsyncGenerator[ChatChunk, None]:
    """ChatChunks from Ollama's NDJSON; an ``{"error": …}`` line fails the call."""
    merged = ReasoningStream()
    async with aclosing(ndjson_lines(chunks)) as lines:
        async for line in lines:
            try:
                data = loads_line(line)
            except ValueError:
                raise malformed("NDJSON line", line[:120].decode("utf-8", "replace")) from None
            if type(data) is not dict:
                raise malformed("NDJSON line", "not a JSON object")
            if "error" in data:
                raise AttemptFailure(
                    f"error in stream: {_error_text(data['error'])}", retryable=False
                )
            message = data.get("message")
            text = reasoning = ""
            if type(message) is dict:
                text, reasoning = merged.feed(message.get("content"), message.get("thinking"))
            if data.get("done"):
                tail_text, tail_reasoning = merged.flush()
                yield ChatChunk(
                    text + tail_text,
                    (reasoning + tail_reasoning) or None,
                    True,
                    data.get("done_reason"),
                    _usage(data),
                )
                return
            if text or reasoning:
                yield ChatChunk(text, reasoning or None)
    raise AttemptFailure("stream ended before its final (done) line", retryable=True)


class OllamaClient(EndpointClient[tuple[dict[str, Any], dict[str, Any]]]):
    """A :class:`~tutorlab.clients.protocol.ModelClient` for an ``ollama`` endpoint."""

    chat_path = "/api/chat"
    decode_stream = staticmethod(_decode_stream)

    def _fields(self, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        return ollama_fields(params)

    def _body(
        self, messages: Messages, params: ModelParams | Mapping[str, Any] | None, stream: bool
    ) -> bytes:
        top, options = self._call_fields(params)
        return dumps(
            {
                "model": self.endpoint.model,
                "messages": wire_messages(messages),
                "stream": stream,
                **top,
                "options": options,
            }
        )

    def _parse_chat(self, data: Any) -> ParsedChat:
        if type(data) is not dict:
            raise malformed("response", "not a JSON object")
        if "error" in data:
            raise AttemptFailure(
                f"error from endpoint: {_error_text(data['error'])}", retryable=False
            )
        message = data["message"]
        text, reasoning = reply_and_reasoning(message.get("content") or "", message.get("thinking"))
        return (
            text,
            reasoning,
            data.get("done_reason"),
            _usage(data),
            data.get("model") or self.endpoint.model,
            _timings(data),
        )

    async def list_models(self) -> list[str]:
        models, _, _ = await self._wire.request("GET", "/api/tags", None, _parse_tags)
        return models


def _parse_tags(data: Any) -> list[str]:
    return [str(item.get("name") or item["model"]) for item in data["models"]]
