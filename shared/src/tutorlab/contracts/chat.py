"""Chat contracts: messages, usage, the tutor's /chat request and reply."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool


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


class TutorChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=20_000)
    mode: TutorMode = TutorMode.hint
    grade: int = Field(default=6, ge=GRADE_MIN, le=GRADE_MAX)
    history: list[ChatMessage] = Field(default_factory=list, max_length=100)
    model: str | None = None
    #: strictly a JSON boolean: "yes", "false" or 1 are refused (422), never read as a choice
    stream: StrictBool = False


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
