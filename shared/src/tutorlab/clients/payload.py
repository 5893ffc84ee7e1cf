"""Request-body pieces shared by the clients: messages and merged sampling parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tutorlab.contracts.chat import ChatMessage
from tutorlab.contracts.endpoints import ModelParams

Messages = Sequence[ChatMessage | Mapping[str, Any]]


def wire_messages(messages: Messages) -> list[Any]:
    """Messages as the JSON the APIs take; dicts are passed through (extra keys kept)."""
    out: list[Any] = []
    for i, message in enumerate(messages):
        if isinstance(message, ChatMessage):
            out.append({"role": message.role, "content": message.content})
        elif isinstance(message, Mapping):
            if "role" not in message:
                raise ValueError(f"messages[{i}]: missing 'role'")
            out.append(message)
        else:
            raise TypeError(
                f"messages[{i}]: expected a ChatMessage or a dict, got {type(message).__name__}"
            )
    if not out:
        raise ValueError("messages: at least one message is required")
    return out


def call_params(
    base: ModelParams, override: ModelParams | Mapping[str, Any] | None
) -> dict[str, Any]:
    """``base`` merged with the call's ``override``; unset and None values left out."""
    merged = base.merged(
        override if override is None or isinstance(override, ModelParams) else dict(override)
    )
    return merged.model_dump(exclude_none=True)
