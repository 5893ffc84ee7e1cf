"""Chat contracts: messages, usage, the tutor's /chat request and reply."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class Usage(BaseModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


class TutorMode(StrEnum):
    hint = "hint"
    explain = "explain"
    check = "check"
    solve = "solve"


GRADE_MIN, GRADE_MAX = 1, 12
#: ``/chat``'s message, and each earlier turn it carries in ``history``, at most this long
MESSAGE_MAX_CHARS = 20_000
#: the earlier turns a ``/chat`` request may carry, and their characters all together
HISTORY_MAX_TURNS = 100
HISTORY_MAX_CHARS = 200_000


class HistoryTurn(ChatMessage):
    """An earlier turn of the conversation, as ``/chat`` takes it (bounded)."""

    content: str = Field(max_length=MESSAGE_MAX_CHARS)


class TutorChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=MESSAGE_MAX_CHARS)
    mode: TutorMode = TutorMode.hint
    grade: int = Field(default=6, ge=GRADE_MIN, le=GRADE_MAX)
    history: list[HistoryTurn] = Field(
        default_factory=list,
        max_length=HISTORY_MAX_TURNS,
        description=f"earlier turns, at most {HISTORY_MAX_TURNS} and {HISTORY_MAX_CHARS} "
        "characters in all",
    )
    model: str | None = None
    #: strictly a JSON boolean: "yes", "false" or 1 are refused (422), never read as a choice
    stream: StrictBool = False

    @field_validator("history")
    @classmethod
    def _history_size(cls, value: list[HistoryTurn]) -> list[HistoryTurn]:
        total = sum(len(turn.content) for turn in value)
        if total > HISTORY_MAX_CHARS:
            raise ValueError(
                f"{total} characters in all, over the {HISTORY_MAX_CHARS}-character limit "
                "(send fewer or shorter turns)"
            )
        return value


class TutorChatResponse(BaseModel):
    reply: str
    reasoning: str | None = None
    model: str
    mode: TutorMode
    grade: int
    usage: Usage
    latency_ms: float
    finish_reason: str | None = None
    prompt_version: str
