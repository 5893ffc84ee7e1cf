"""Qwen3's chat template, written out in Python for the chats the trainer renders.

Jinja is too slow to run once per example over a full training set, so the renderer builds the
template's text here and tokenises it in batches. This mirrors ``chat_template`` of Qwen3's
``tokenizer_config.json`` for string contents, the roles system/user/assistant and no tools,
with ``enable_thinking=False``; :func:`check_template` proves it against the tokenizer's own
template when a renderer loads, and the parity tests prove the tokens.

What the template does that matters for training (read from the template itself):

- the generation prompt with ``enable_thinking=False`` ends ``<|im_start|>assistant\\n<think>\\n\\n
  </think>\\n\\n``;
- the final assistant turn (after the last user message) is rendered with the same empty think
  block in front of its content, so prompt + reply + ``<|im_end|>`` is exactly the full chat;
- an assistant turn before the last user message is rendered *without* a think block, and any
  ``<think>…</think>`` in its content is dropped.

Each message is one chunk of text that starts with ``<|im_start|>`` and ends with ``<|im_end|>\\n``.
Special tokens split the text before the tokenizer's pre-tokenizer runs, so the tokens of the
whole prompt are the tokens of its chunks put end to end: chunks that repeat (the 48 system
prompts, the generation header) are tokenised once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
END_OF_TEXT = "<|endoftext|>"
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
#: the empty reasoning block of a non-thinking turn
EMPTY_THINK = f"{THINK_OPEN}\n\n{THINK_CLOSE}\n\n"
#: what ``add_generation_prompt=True, enable_thinking=False`` appends
GENERATION_HEADER = f"{IM_START}assistant\n{EMPTY_THINK}"
#: text that must not appear in a reply to train on (it would not be the reply the model emits)
FORBIDDEN_IN_REPLY = (IM_START, IM_END, END_OF_TEXT, THINK_OPEN, THINK_CLOSE)


def _is_tool_response(content: str) -> bool:
    return content.startswith("<tool_response>") and content.endswith("</tool_response>")


def _last_query_index(messages: Sequence[Mapping[str, str]]) -> int:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message["role"] == "user" and not _is_tool_response(message["content"]):
            return index
    return len(messages) - 1


def _assistant_text(content: str, index: int, last: bool, last_query: int) -> str:
    reasoning = ""
    if THINK_CLOSE in content:
        reasoning = content.split(THINK_CLOSE)[0].rstrip("\n").split(THINK_OPEN)[-1].lstrip("\n")
        content = content.split(THINK_CLOSE)[-1].lstrip("\n")
    if index > last_query and (last or reasoning):
        thought = reasoning.strip("\n")
        body = f"{THINK_OPEN}\n{thought}\n{THINK_CLOSE}\n\n{content.lstrip(chr(10))}"
    else:
        body = content
    return f"{IM_START}assistant\n{body}{IM_END}\n"


def message_chunks(messages: Sequence[Mapping[str, str]]) -> list[str]:
    """The template's text for ``messages``, one chunk per message (no generation prompt)."""
    last_query = _last_query_index(messages)
    chunks: list[str] = []
    for index, message in enumerate(messages):
        role, content = message["role"], message["content"]
        if role == "assistant":
            last = index == len(messages) - 1
            chunks.append(_assistant_text(content, index, last, last_query))
        else:
            chunks.append(f"{IM_START}{role}\n{content}{IM_END}\n")
    return chunks


def prompt_chunks(messages: Sequence[Mapping[str, str]]) -> list[str]:
    """The text the model is conditioned on before it replies: the chat, then the header."""
    return [*message_chunks(messages), GENERATION_HEADER]


class ChatTemplate(Protocol):
    """The one method of a ``transformers`` tokenizer :func:`check_template` uses."""

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any: ...


def _probes() -> list[list[dict[str, str]]]:
    """Chats that take every branch above that training meets."""
    system = {"role": "system", "content": "You are a tutor."}
    user = {"role": "user", "content": "What is 3 × 4?"}
    reply = {"role": "assistant", "content": "What is 3 + 3 + 3 + 3?"}
    thought = {"role": "assistant", "content": "<think>\nadd\n</think>\n\nTry adding."}
    again = {"role": "user", "content": "Is it 12?"}
    return [[system, user], [user], [system, user, reply, again], [system, user, thought, again]]


def check_template(tokenizer: ChatTemplate) -> str | None:
    """None when this module renders like the tokenizer's chat template, else what differs."""
    final = {"role": "assistant", "content": "Good: 12."}
    for prompt in _probes():
        cases = (
            (prompt, True, "".join(prompt_chunks(prompt))),
            ([*prompt, final], False, "".join(message_chunks([*prompt, final]))),
        )
        for chat, generation, ours in cases:
            try:
                theirs = tokenizer.apply_chat_template(
                    chat, tokenize=False, add_generation_prompt=generation, enable_thinking=False
                )
            except Exception as exc:  # no template, or one that fails: either way not Qwen3's
                return f"the template fails on {chat!r}: {exc}"
            if theirs != ours:
                return f"for {chat!r} the template gives {theirs!r}, the Qwen3 renderer {ours!r}"
    return None
