"""The Ollama wire format: ``/api/chat`` bodies in and out (NDJSON when streaming)."""

from __future__ import annotations

import json
import time
from typing import Any

from tutorlab_sim.generation import BadRequest, ChatCall, Generation, pieces
from tutorlab_sim.request_fields import chat_messages, int_field, json_object, model_name

MEDIA_JSON = "application/json; charset=utf-8"
MEDIA_NDJSON = "application/x-ndjson"
ROLES = frozenset({"system", "user", "assistant", "tool"})
THINK_LEVELS = frozenset({"low", "medium", "high"})

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def created_at() -> str:
    """Now, in RFC 3339 with microseconds, as Ollama writes it."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


def error_body(message: str) -> bytes:
    return _dumps({"error": message}).encode()


def parse_chat(body: Any) -> ChatCall:
    """Validate an ``/api/chat`` body; BadRequest names the first bad field."""
    body = json_object(body)
    model = model_name(body)
    messages = chat_messages(body, ROLES)
    stream = body.get("stream", True)
    if not isinstance(stream, bool):
        raise BadRequest("stream must be a boolean")
    think = body.get("think", False)
    if think is None:
        think = False
    elif isinstance(think, str) and think in THINK_LEVELS:
        think = True
    elif not isinstance(think, bool):
        raise BadRequest("think must be a boolean or one of low, medium, high")
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise BadRequest("options must be an object")
    max_tokens: int | None = None
    if options.get("num_predict") is not None:
        max_tokens = int_field(options["num_predict"], "options.num_predict")
        if max_tokens < 0:  # -1 (infinite) and -2 (fill the context) mean no limit
            max_tokens = None
    seed = 0
    if options.get("seed") is not None:
        seed = int_field(options["seed"], "options.seed")
    return ChatCall(model, messages, stream, think, max_tokens, seed)


def _final(
    call: ChatCall,
    gen: Generation,
    stamp: str,
    message: dict[str, str],
    prompt_count: int,
    elapsed_ns: int,
) -> dict[str, Any]:
    """The last object of a reply, with Ollama's counters (durations in nanoseconds)."""
    elapsed_ns = max(elapsed_ns, 1)
    total_tokens = max(prompt_count + gen.completion_tokens, 1)
    prompt_ns = elapsed_ns * prompt_count // total_tokens
    return {
        "model": call.model,
        "created_at": stamp,
        "message": message,
        "done": True,
        "done_reason": gen.finish_reason,
        "total_duration": elapsed_ns,
        "load_duration": 0,
        "prompt_eval_count": prompt_count,
        "prompt_eval_duration": prompt_ns,
        "eval_count": gen.completion_tokens,
        "eval_duration": elapsed_ns - prompt_ns,
    }


def chat_body(call: ChatCall, gen: Generation, prompt_count: int, elapsed_ns: int) -> bytes:
    """The non-streamed reply: one JSON object."""
    message = {"role": "assistant", "content": gen.content}
    if gen.thinking:
        message["thinking"] = gen.thinking
    return _dumps(_final(call, gen, created_at(), message, prompt_count, elapsed_ns)).encode()


def stream_lines(
    call: ChatCall,
    gen: Generation,
    prompt_count: int,
    elapsed_ns: int,
    fault: str | None = None,
) -> bytes:
    """The streamed reply: NDJSON chunks, then the final ``done`` line.

    ``malformed`` puts a garbage line after the first chunk; ``stream_error`` stops halfway with
    an ``{"error": ...}`` line (inside the 200, as Ollama does).
    """
    stamp = created_at()
    head = f'{{"model":{_dumps(call.model)},"created_at":"{stamp}","message":'
    lines = [
        f'{head}{{"role":"assistant","content":"","thinking":{_dumps(p)}}},"done":false}}\n'
        for p in pieces(gen.thinking)
    ]
    lines.extend(
        f'{head}{{"role":"assistant","content":{_dumps(p)}}},"done":false}}\n'
        for p in pieces(gen.content)
    )
    if fault == "stream_error":
        del lines[len(lines) // 2 :]
        lines.append(_dumps({"error": "simulated error: the model runner stopped mid-stream"}))
        lines.append("\n")
        return "".join(lines).encode()
    if fault == "malformed":
        lines.insert(min(1, len(lines)), f'{head}{{"role":"assist\n')
    final = _final(call, gen, stamp, {"role": "assistant", "content": ""}, prompt_count, elapsed_ns)
    lines.append(_dumps(final) + "\n")
    return "".join(lines).encode()
