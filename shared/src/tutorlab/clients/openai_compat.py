"""Client for OpenAI-compatible APIs (OpenAI, vLLM, llama.cpp, Ollama's /v1, Tinker's OAI API):
``POST /chat/completions`` (JSON or SSE stream) and ``GET /models``.

Params pass through as top-level fields, except ``num_ctx`` (Ollama-only, dropped) and
``think``, sent as ``chat_template_kwargs.enable_thinking`` (how vLLM/SGLang switch Qwen3's
thinking). Reasoning is read from ``reasoning_content`` / ``reasoning`` or a ``<think>`` block.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any

from tutorlab.clients.base import EndpointClient, ParsedChat
from tutorlab.clients.errors import AttemptFailure
from tutorlab.clients.framing import sse_data
from tutorlab.clients.payload import Messages, wire_messages
from tutorlab.clients.results import ChatChunk, make_usage
from tutorlab.clients.think import ReasoningStream, reply_and_reasoning
from tutorlab.clients.wire import dumps, loads_line, malformed
from tutorlab.contracts.chat import Usage
from tutorlab.contracts.endpoints import ModelParams

_DROPPED = frozenset({"num_ctx", "think"})
_STREAM_OPTIONS = {"include_usage": True}


def openai_fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level request fields from merged params."""
    fields = {key: value for key, value in params.items() if key not in _DROPPED}
    think = params.get("think")
    if think is not None:
        template_kwargs = dict(fields.get("chat_template_kwargs") or {})
        template_kwargs.setdefault("enable_thinking", think)
        fields["chat_template_kwargs"] = template_kwargs
    return fields


def _body_error(data: dict[str, Any]) -> str | None:
    """The message of an error object sent with a 2xx status (some servers do), else None."""
    error = data.get("error")
    if error is None and data.get("object") == "error":
        error = data
    if error is None:
        return None
    if isinstance(error, dict):
        error = error.get("message") or json.dumps(error)
    return str(error)


def _usage(value: Any) -> Usage | None:
    if type(value) is not dict:
        return None
    return make_usage(
        value.get("prompt_tokens"), value.get("completion_tokens"), value.get("total_tokens")
    )


def _reasoning_field(message: Mapping[str, Any]) -> Any:
    return message.get("reasoning_content") or message.get("reasoning")


async def _decode_stream(chunks: AsyncIterator[bytes]) -> AsyncGenerator[ChatChunk, None]:
    """ChatChunks from an SSE chat-completion stream.

    Usage comes from the final chunk with empty ``choices``. A stream that ends without
    ``[DONE]`` is accepted only if a finish_reason arrived (usage may then be missing).
    """
    merged = ReasoningStream()
    finish_reason: str | None = None
    usage: Usage | None = None
    completed = False
    async with aclosing(sse_data(chunks)) as events:
        async for event in events:
            if event == b"[DONE]":
                completed = True
                break
            try:
                data = loads_line(event)
            except ValueError:
                raise malformed("SSE event", event[:120].decode("utf-8", "replace")) from None
            if type(data) is not dict:
                raise malformed("SSE event", "not a JSON object")
            error = _body_error(data)
            if error is not None:
                raise AttemptFailure(f"error in stream: {error}", retryable=False)
            if (raw_usage := data.get("usage")) is not None:
                usage = _usage(raw_usage)
            choices = data.get("choices")
            if not choices or type(choices) is not list:
                continue
            choice = choices[0]
            if type(choice) is not dict:
                raise malformed("SSE event", "choice is not a JSON object")
            text = reasoning = ""
            delta = choice.get("delta")
            if type(delta) is dict:
                text, reasoning = merged.feed(delta.get("content"), _reasoning_field(delta))
            if choice.get("finish_reason"):
                finish_reason = choice["finish_reason"]
            if text or reasoning:
                yield ChatChunk(text, reasoning or None)
    if not completed and finish_reason is None:
        raise AttemptFailure(
            "stream ended without a finish_reason or [DONE] (connection cut?)", retryable=True
        )
    tail_text, tail_reasoning = merged.flush()
    yield ChatChunk(
        tail_text, tail_reasoning or None, True, finish_reason, usage or make_usage(None, None)
    )


class OpenAICompatClient(EndpointClient[dict[str, Any]]):
    """A :class:`~tutorlab.clients.protocol.ModelClient` for ``openai`` and ``tinker`` endpoints."""

    chat_path = "/chat/completions"
    decode_stream = staticmethod(_decode_stream)

    def _fields(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return openai_fields(params)

    def _body(
        self, messages: Messages, params: ModelParams | Mapping[str, Any] | None, stream: bool
    ) -> bytes:
        fields = self._call_fields(params)
        body: dict[str, Any] = {
            "model": self.endpoint.model,
            "messages": wire_messages(messages),
            **fields,
            "stream": stream,
        }
        if stream:
            body["stream_options"] = _STREAM_OPTIONS
        return dumps(body)

    def _parse_chat(self, data: Any) -> ParsedChat:
        if type(data) is not dict:
            raise malformed("response", "not a JSON object")
        error = _body_error(data)
        if error is not None:
            raise AttemptFailure(f"error from endpoint: {error}", retryable=False)
        choice = data["choices"][0]
        message = choice["message"]
        text, reasoning = reply_and_reasoning(
            message.get("content") or "", _reasoning_field(message)
        )
        return (
            text,
            reasoning,
            choice.get("finish_reason"),
            _usage(data.get("usage")) or make_usage(None, None),
            data.get("model") or self.endpoint.model,
            None,
        )

    async def list_models(self) -> list[str]:
        models, _, _ = await self._wire.request("GET", "/models", None, _parse_models)
        return models


def _parse_models(data: Any) -> list[str]:
    return [str(item["id"]) for item in data["data"]]
