"""Training-data record schema: the seed ``{prompt, response, ...}`` form and the multi-turn
``{messages: [...], ...}`` form, one JSON object per JSONL line.

The seed prompt reads ``"Student: <message>\\nMode: <mode>"``; when ``mode`` is not given it is
parsed from the prompt. Models are strict (no type coercion, no unknown fields) so that a bad
line is reported, never silently repaired. One documented exception: ``grade`` may be a string of
ASCII digits (the seed writes ``"grade": "6"``); it is read as that whole number. Any other string
(``"six"``, ``"6.5"``, ``" 6"``, ``""``) is reported.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from tutorlab.curriculum.taxonomy import GRADE_MAX, GRADE_MIN

Mode = Literal["hint", "explain", "check", "solve"]
MODES: tuple[str, ...] = ("hint", "explain", "check", "solve")
Role = Literal["system", "user", "assistant"]

_PROMPT_RE = re.compile(r"\AStudent: (?P<message>.*)\nMode: (?P<mode>[^\n]*?)\s*\Z", re.S)
_GRADE_DIGITS = re.compile(r"[0-9]+")

Grade = Annotated[int, Field(ge=GRADE_MIN, le=GRADE_MAX)]


def format_prompt(message: str, mode: str) -> str:
    """The seed prompt: ``"Student: <message>\\nMode: <mode>"``."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    return f"Student: {message}\nMode: {mode}"


def parse_prompt(prompt: str) -> tuple[str, str] | None:
    """``(message, mode)`` of a seed-format prompt, or None when it is not in that format.
    The mode is returned as written (it may be unknown)."""
    match = _PROMPT_RE.match(prompt)
    if match is None:
        return None
    return match.group("message"), match.group("mode")


class _Base(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    grade: Grade
    topic_tags: list[str]
    mode: Mode | None = None
    id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("grade", mode="before")
    @classmethod
    def _grade_from_digits(cls, value: Any) -> Any:
        """The seed's ``"grade": "6"`` is the number 6; a string that is not all ASCII digits is
        refused here, not guessed at (no spaces, signs, decimals or words)."""
        if not isinstance(value, str):
            return value
        if _GRADE_DIGITS.fullmatch(value):
            return int(value)
        raise PydanticCustomError(
            "grade_type",
            "grade {value} is not a whole number: give {low}..{high} as a number or as a string "
            'of digits such as "6"',
            {"value": repr(value), "low": GRADE_MIN, "high": GRADE_MAX},
        )

    @field_validator("topic_tags")
    @classmethod
    def _tags_not_blank(cls, tags: list[str]) -> list[str]:
        for i, tag in enumerate(tags):
            if not tag.strip():
                raise PydanticCustomError("empty_tag", "topic_tags[{i}] is blank", {"i": i})
        return tags


class TrainingExample(_Base):
    """``{prompt, response, grade, topic_tags, mode?, metadata?, id?}``."""

    prompt: str
    response: str

    @model_validator(mode="before")
    @classmethod
    def _mode_from_prompt(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and data.get("mode") is None
            and isinstance(data.get("prompt"), str)
        ):
            parsed = parse_prompt(data["prompt"])
            if parsed is not None and parsed[1] in MODES:
                return {**data, "mode": parsed[1]}
        return data

    @field_validator("prompt")
    @classmethod
    def _prompt_ok(cls, prompt: str) -> str:
        if not prompt.strip():
            raise PydanticCustomError("empty_prompt", "prompt is empty")
        parsed = parse_prompt(prompt)
        if parsed is not None and parsed[1] not in MODES:
            raise PydanticCustomError(
                "unknown_mode",
                "the prompt's 'Mode: {mode}' is not one of hint, explain, check, solve",
                {"mode": parsed[1]},
            )
        return prompt

    @field_validator("response")
    @classmethod
    def _response_not_empty(cls, response: str) -> str:
        if not response.strip():
            raise PydanticCustomError("empty_response", "response is empty")
        return response

    @model_validator(mode="after")
    def _mode_matches_prompt(self) -> TrainingExample:
        parsed = parse_prompt(self.prompt)
        if parsed is not None and self.mode is not None and parsed[1] != self.mode:
            raise PydanticCustomError(
                "mode_mismatch",
                "mode '{given}' differs from the prompt's 'Mode: {prompt}'",
                {"given": self.mode, "prompt": parsed[1], "field": "mode"},
            )
        return self

    @property
    def student_message(self) -> str:
        """The student's message when the prompt is in the seed format, else the prompt."""
        parsed = parse_prompt(self.prompt)
        return parsed[0] if parsed else self.prompt

    def text(self) -> str:
        return f"{self.prompt}\n{self.response}"


class TrainingMessage(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    role: Role
    content: str


class MessagesExample(_Base):
    """``{messages: [{role, content}, ...], grade, topic_tags, mode?, metadata?, id?}``: a
    multi-turn example; a system message may only come first, there is at least one user
    message, and the last message is the assistant's (the training target), not empty."""

    messages: list[TrainingMessage]

    @field_validator("messages")
    @classmethod
    def _check_turns(cls, messages: list[TrainingMessage]) -> list[TrainingMessage]:
        if not messages:
            raise PydanticCustomError("empty_messages", "messages is empty")
        for i, message in enumerate(messages):
            if message.role == "system" and i != 0:
                raise PydanticCustomError(
                    "invalid_messages",
                    "messages[{i}]: a system message may only come first",
                    {"i": i},
                )
        if messages[-1].role != "assistant":
            raise PydanticCustomError(
                "invalid_messages",
                "the last message must be the assistant's, not the {role}'s",
                {"role": messages[-1].role},
            )
        if not any(m.role == "user" for m in messages):
            raise PydanticCustomError("invalid_messages", "messages has no user message")
        if not messages[-1].content.strip():
            raise PydanticCustomError("empty_response", "the last (assistant) message is empty")
        return messages

    def text(self) -> str:
        return "\n".join(m.content for m in self.messages)


Example = TrainingExample | MessagesExample


def parse_example(data: dict[str, Any]) -> Example:
    """Validate one decoded JSONL object: the messages form when it has ``messages``,
    else the prompt/response form. Raises pydantic.ValidationError."""
    if "messages" in data:
        return MessagesExample.model_validate(data)
    return TrainingExample.model_validate(data)


def example_text(example: Example | dict[str, Any] | str) -> str:
    """The text of an example used for de-duplication and contamination checks:
    prompt and response, or every message's content; a plain string as is."""
    if isinstance(example, str):
        return example
    if isinstance(example, TrainingExample | MessagesExample):
        return example.text()
    if isinstance(example, dict):
        if isinstance(example.get("messages"), list):
            return "\n".join(
                str(m.get("content", "")) for m in example["messages"] if isinstance(m, dict)
            )
        return f"{example.get('prompt', '')}\n{example.get('response', '')}"
    raise TypeError(f"cannot take the text of a {type(example).__name__}")


def example_id(example: Any, index: int) -> str:
    """An example's ``id`` (attribute or dict key), or else its index as a string."""
    value = example.get("id") if isinstance(example, dict) else getattr(example, "id", None)
    return str(value) if value is not None else str(index)
