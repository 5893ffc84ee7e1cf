"""Checks on a chat request's fields that both wire formats share: BadRequest names the field.

Each API keeps what differs (its roles, what a message's content may be, its own options); the
shape of a body, its model and its message list are checked here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tutorlab_sim.generation import BadRequest
from tutorlab_sim.replies import Message

#: reads one message's content (``where`` names it in errors) as the text the replies use
ContentReader = Callable[[Any, str], str]


def json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def model_name(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise BadRequest(
            "model is required" if model is None else "model must be a non-empty string"
        )
    return model


def text_content(value: Any, where: str) -> str:
    """A content that is a string (``None``: empty)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{where} must be a string")
    return value


def chat_messages(
    body: Mapping[str, Any],
    roles: frozenset[str],
    content: ContentReader = text_content,
    *,
    allow_empty: bool = True,
    role_aliases: Mapping[str, str] | None = None,
) -> list[Message]:
    """``messages`` as ``(role, text)`` pairs: a list of objects with a known ``role``
    (``role_aliases`` renames some) and a content ``content`` can read."""
    raw = body.get("messages")
    if raw is None:
        raise BadRequest("messages is required")
    if not isinstance(raw, list) or not (raw or allow_empty):
        raise BadRequest(
            "messages must be a list" if allow_empty else "messages must be a non-empty list"
        )
    aliases = role_aliases or {}
    messages: list[Message] = []
    for i, message in enumerate(raw):
        if not isinstance(message, dict):
            raise BadRequest(f"messages[{i}] must be an object")
        role = message.get("role")
        if role not in roles:
            raise BadRequest(f"messages[{i}].role must be one of {', '.join(sorted(roles))}")
        messages.append(
            (aliases.get(role, role), content(message.get("content"), f"messages[{i}].content"))
        )
    return messages


def int_field(value: Any, name: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be an integer")
    if minimum is not None and value < minimum:
        raise BadRequest(f"{name} must be at least {minimum}")
    return value


def cut_off(body: bytes) -> bytes:
    """A 200 body that is not valid JSON: the reply cut off halfway (the ``malformed`` fault)."""
    return body[: max(1, len(body) // 2)]
