"""The OpenAI wire format: ``/v1/chat/completions`` bodies in and out (SSE when streaming)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from tutorlab_sim.generation import BadRequest, ChatCall, Generation, pieces
from tutorlab_sim.request_fields import chat_messages, int_field, json_object, model_name

MEDIA_JSON = "application/json"
MEDIA_SSE = "text/event-stream; charset=utf-8"
#: roles accepted; ``developer`` is read as ``system``
ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def error_body(message: str, type_: str, code: str, param: str | None = None) -> bytes:
    return _dumps(
        {"error": {"message": message, "type": type_, "param": param, "code": code}}
    ).encode()


def bad_request_body(exc: BadRequest) -> bytes:
    param = str(exc).split(" ", 1)[0]
    return error_body(str(exc), "invalid_request_error", "invalid_request", param)


def _flag(value: Any, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be a boolean")
    return value


def _content(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for j, part in enumerate(value):
            if not isinstance(part, dict):
                raise BadRequest(f"{where}[{j}] must be an object")
            if part.get("type") == "text":
                text = part.get("text")
                if not isinstance(text, str):
                    raise BadRequest(f"{where}[{j}].text must be a string")
                texts.append(text)
        return "\n".join(texts)
    raise BadRequest(f"{where} must be a string or a list of content parts")


def _wants_thinking(body: dict[str, Any]) -> bool:
    sources = [body]
    for nested in ("extra_body", "chat_template_kwargs"):
        if isinstance(body.get(nested), dict):
            sources.append(body[nested])
    return any(
        _flag(source.get(key), key) for source in sources for key in ("think", "enable_thinking")
    )


def parse_chat(body: Any) -> ChatCall:
    """Validate a ``/v1/chat/completions`` body; BadRequest names the first bad field."""
    body = json_object(body)
    model = model_name(body)
    messages = chat_messages(
        body, ROLES, _content, allow_empty=False, role_aliases={"developer": "system"}
    )
    stream = _flag(body.get("stream"), "stream")
    include_usage = False
    options = body.get("stream_options")
    if options is not None:
        if not isinstance(options, dict):
            raise BadRequest("stream_options must be an object")
        include_usage = _flag(options.get("include_usage"), "stream_options.include_usage")
    max_tokens: int | None = None
    for name in ("max_completion_tokens", "max_tokens"):
        if body.get(name) is not None:
            max_tokens = int_field(body[name], name, minimum=1)
            break
    seed = 0 if body.get("seed") is None else int_field(body["seed"], "seed")
    return ChatCall(model, messages, stream, _wants_thinking(body), max_tokens, seed, include_usage)


def completion_id() -> str:
    return "chatcmpl-" + os.urandom(12).hex()


def _text(gen: Generation) -> str:
    if not gen.thinking:
        return gen.content
    return f"<think>\n{gen.thinking}\n</think>\n\n{gen.content}"


def _usage(prompt_count: int, gen: Generation) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_count,
        "completion_tokens": gen.completion_tokens,
        "total_tokens": prompt_count + gen.completion_tokens,
    }


def chat_body(call: ChatCall, gen: Generation, prompt_count: int) -> bytes:
    """The non-streamed reply: one ``chat.completion`` object."""
    return _dumps(
        {
            "id": completion_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": call.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": _text(gen)},
                    "logprobs": None,
                    "finish_reason": gen.finish_reason,
                }
            ],
            "usage": _usage(prompt_count, gen),
        }
    ).encode()


def stream_events(
    call: ChatCall, gen: Generation, prompt_count: int, fault: str | None = None
) -> bytes:
    """The streamed reply: SSE ``chat.completion.chunk`` events, then ``data: [DONE]``.

    ``malformed`` inserts a garbage event after the first; ``stream_error`` cuts the stream
    halfway, with no finish reason, no usage and no ``[DONE]``.
    """
    usage_null = ',"usage":null' if call.include_usage else ""
    head = (
        f'data: {{"id":"{completion_id()}","object":"chat.completion.chunk",'
        f'"created":{int(time.time())},"model":{_dumps(call.model)},"choices":'
    )
    events = [
        f'{head}[{{"index":0,"delta":{{"role":"assistant","content":""}},"logprobs":null,'
        f'"finish_reason":null}}]{usage_null}}}\n\n'
    ]
    events.extend(
        f'{head}[{{"index":0,"delta":{{"content":{_dumps(p)}}},"logprobs":null,'
        f'"finish_reason":null}}]{usage_null}}}\n\n'
        for p in pieces(_text(gen))
    )
    if fault == "stream_error":
        del events[max(1, len(events) // 2) :]
        return "".join(events).encode()
    if fault == "malformed":
        events.insert(1, f'{head}[{{"index":0,"delta":{{"cont\n\n')
    events.append(
        f'{head}[{{"index":0,"delta":{{}},"logprobs":null,'
        f'"finish_reason":"{gen.finish_reason}"}}]{usage_null}}}\n\n'
    )
    if call.include_usage:
        events.append(f'{head}[],"usage":{_dumps(_usage(prompt_count, gen))}}}\n\n')
    events.append("data: [DONE]\n\n")
    return "".join(events).encode()
