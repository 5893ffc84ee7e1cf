"""What a model call returns: a whole reply, or the chunks of a streamed one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tutorlab.contracts.chat import Usage


@dataclass(slots=True, frozen=True)
class ChatResult:
    """A complete reply. ``text`` never contains the Qwen3 ``<think>`` block; ``reasoning`` does."""

    text: str
    reasoning: str | None
    finish_reason: str | None
    usage: Usage
    latency_ms: float
    attempts: int
    model: str
    #: Server-side timings in milliseconds when the backend reports them (Ollama's *_duration).
    timings: dict[str, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (usage as a plain dict)."""
        return {
            "text": self.text,
            "reasoning": self.reasoning,
            "finish_reason": self.finish_reason,
            "usage": self.usage.model_dump(),
            "latency_ms": self.latency_ms,
            "attempts": self.attempts,
            "model": self.model,
            "timings": self.timings,
        }


@dataclass(slots=True, frozen=True)
class ChatChunk:
    """One piece of a streamed reply. Exactly one chunk, the last, has ``done=True``.

    The last chunk carries ``finish_reason`` and ``usage`` (whose fields are None when the
    backend did not report them, e.g. an OpenAI stream cut before its usage chunk).
    """

    text: str = ""
    reasoning: str | None = None
    done: bool = False
    finish_reason: str | None = None
    usage: Usage | None = None


def make_usage(prompt: Any, completion: Any, total: Any = None) -> Usage:
    """Usage from raw wire values; anything that is not a non-negative int becomes None."""
    p = prompt if type(prompt) is int and prompt >= 0 else None
    c = completion if type(completion) is int and completion >= 0 else None
    t = total if type(total) is int and total >= 0 else None
    if t is None and p is not None and c is not None:
        t = p + c
    return Usage.model_construct(prompt_tokens=p, completion_tokens=c, total_tokens=t)
