"""The chat a training example stands for: the messages tutor-api would send for it.

An example becomes ``[system, user, assistant]`` with the tutoring-policy system prompt
(:func:`tutorlab.tutoring.system_prompt`), the prompt text tutor-api and the eval send for the same
mode and grade, so the model is trained on the exact context it is served in.

Choices, and why:

- **No mode** (a prompt/response line whose prompt is not ``Student: …\\nMode: …`` and has no
  ``mode`` field): the example is trained under :data:`DEFAULT_MODE`, the mode tutor-api answers
  a ``/chat`` request in when the request names none, i.e. the context the served model most
  often meets such a question in. Every served turn carries some mode's system prompt, so there
  is no "no system prompt" case to train for.
- A messages-form example that **starts with its own system message keeps it** (the data-service
  writes the policy prompt there itself; a team's own prompt is their choice); one without gets
  the policy prompt for its mode and grade.
- **The reply's leading whitespace is dropped.** The chat template already drops leading newlines
  of the final assistant turn, and the prompt ends in ``\\n\\n``: leading whitespace with a newline
  in it (``" \\n"``, ``"\\t\\n"``) would be tokenised with that ``\\n\\n`` in the full chat, so
  no token sequence would both extend the generation prompt and match the template. Dropping
  all of it keeps the rule simple; a tutor's reply never starts with whitespace on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tutorlab.contracts.chat import TutorChatRequest, TutorMode
from tutorlab.curriculum.training_format import (
    Example,
    MessagesExample,
    TrainingExample,
    parse_example,
)
from tutorlab.tutoring import system_prompt

#: the mode of an example that names none: tutor-api's own default for ``/chat``
DEFAULT_MODE: TutorMode = TutorMode(TutorChatRequest.model_fields["mode"].default)

Message = dict[str, str]


class RenderError(ValueError):
    """A chat or example cannot be rendered for training; the message says which and why."""


def canonical_reply(text: str) -> str:
    """The training target as the model should produce it: without leading whitespace."""
    return text.lstrip()


def messages_for(example: Example | Mapping[str, Any]) -> list[Message]:
    """The chat for one training example (a parsed one, or a decoded JSONL object, which is
    validated with :func:`tutorlab.curriculum.training_format.parse_example`)."""
    if not isinstance(example, TrainingExample | MessagesExample):
        example = parse_example(dict(example))
    mode = example.mode or DEFAULT_MODE
    if isinstance(example, TrainingExample):
        return [
            {"role": "system", "content": system_prompt(mode, example.grade)},
            {"role": "user", "content": example.student_message},
            {"role": "assistant", "content": canonical_reply(example.response)},
        ]
    turns: list[Message] = [{"role": m.role, "content": m.content} for m in example.messages]
    if turns[0]["role"] != "system":
        turns.insert(0, {"role": "system", "content": system_prompt(mode, example.grade)})
    turns[-1] = {"role": "assistant", "content": canonical_reply(turns[-1]["content"])}
    return turns


def as_messages(messages: Sequence[Mapping[str, Any]]) -> list[Message]:
    """``messages`` as plain ``{role, content}`` dicts, checked: known roles, text contents."""
    if not messages:
        raise RenderError("messages is empty")
    turns: list[Message] = []
    for i, message in enumerate(messages):
        role, content = message.get("role"), message.get("content")
        if role not in ("system", "user", "assistant"):
            raise RenderError(f"messages[{i}].role: {role!r} is not system, user or assistant")
        if not isinstance(content, str):
            raise RenderError(f"messages[{i}].content: expected text, got {type(content).__name__}")
        turns.append({"role": role, "content": content})
    return turns


def split_target(messages: Sequence[Mapping[str, Any]]) -> tuple[list[Message], str]:
    """``(prompt messages, reply)`` of a chat whose last message is the assistant reply to train
    on, right after a user message. Only the last assistant message is trained on: earlier ones
    are context, rendered as the template renders history (without their reasoning)."""
    turns = as_messages(messages)
    if turns[-1]["role"] != "assistant":
        raise RenderError(f"the last message is the {turns[-1]['role']}'s, not the assistant's")
    if len(turns) < 2 or turns[-2]["role"] != "user":
        before = turns[-2]["role"] if len(turns) > 1 else "nothing"
        raise RenderError(
            f"the reply to train on must follow a user message, not {before} (the template "
            "renders an assistant turn after another one differently in the prompt and in the "
            "full chat)"
        )
    return turns[:-1], canonical_reply(turns[-1]["content"])
