"""One chat call, parsed from either wire format, and its output after the token limit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tutorlab_sim.replies import Message, Reply

_TOKEN = re.compile(r"\S+")
_PIECE = re.compile(r"\s*\S+(?:\s+\S+){0,3}")


class BadRequest(ValueError):
    """A request body the simulator refuses; the message names the field."""


@dataclass(slots=True)
class ChatCall:
    """What both APIs ask for, in one shape."""

    model: str
    messages: list[Message]
    stream: bool
    think: bool
    max_tokens: int | None
    seed: int
    include_usage: bool = False


@dataclass(frozen=True, slots=True)
class Generation:
    """The text actually sent: thinking (may be empty), content, why it stopped, token counts."""

    thinking: str
    content: str
    finish_reason: str  # stop | length
    completion_tokens: int


def count_tokens(text: str) -> int:
    """Whitespace tokens: a rough, model-free token estimate."""
    return len(text.split())


def _cut(text: str, limit: int) -> str:
    """``text`` up to the end of its ``limit``-th whitespace token."""
    if limit <= 0:
        return ""
    end = 0
    for number, match in enumerate(_TOKEN.finditer(text), start=1):
        end = match.end()
        if number == limit:
            break
    return text[:end]


def generate(reply: Reply, think: bool, max_tokens: int | None) -> Generation:
    """Apply thinking and the token limit (thinking tokens count first, as in a real model)."""
    thinking = reply.thinking if think else ""
    content = reply.content
    think_tokens = count_tokens(thinking)
    content_tokens = count_tokens(content)
    if max_tokens is None or think_tokens + content_tokens <= max_tokens:
        return Generation(thinking, content, "stop", think_tokens + content_tokens)
    if think_tokens >= max_tokens:
        return Generation(_cut(thinking, max_tokens), "", "length", max_tokens)
    content = _cut(content, max_tokens - think_tokens)
    return Generation(thinking, content, "length", max_tokens)


def pieces(text: str) -> list[str]:
    """``text`` split into stream chunks of a few tokens; joined, they give ``text`` back."""
    return _PIECE.findall(text)


def prompt_tokens(messages: list[Message]) -> int:
    return sum(count_tokens(content) for _, content in messages)
