"""Separate Qwen3's ``<think>…</think>`` reasoning from the reply, whole or while streaming.

Servers that parse the reasoning out themselves send it in a field of its own (Ollama's
``thinking``, vLLM's and others' ``reasoning_content`` / ``reasoning``): :func:`reply_and_reasoning`
and :class:`ReasoningStream` merge that field with whatever ``<think>`` block the content holds,
the same way for every client.
"""

from __future__ import annotations

from typing import Any

OPEN = "<think>"
CLOSE = "</think>"


def split_think(text: str) -> tuple[str, str | None]:
    """Return ``(reply, reasoning)``; reasoning is None when absent or empty.

    Handles a leading ``<think>…</think>`` block, an unclosed leading one (the reply was cut
    inside its reasoning: reply ``""``), the empty ``<think>\\n\\n</think>\\n\\n`` of a
    non-thinking turn, and a reply whose opening tag was part of the prompt (``…</think>``
    with no ``<think>`` before it). Text without tags is returned unchanged.
    """
    close = text.find(CLOSE)
    if close < 0 and OPEN not in text:
        return text, None
    stripped = text.lstrip()
    if stripped.startswith(OPEN):
        rest = stripped[len(OPEN) :]
        end = rest.find(CLOSE)
        if end < 0:
            return "", rest.strip() or None
        return rest[end + len(CLOSE) :].lstrip(), rest[:end].strip() or None
    if close >= 0 and OPEN not in text[:close]:
        return text[close + len(CLOSE) :].lstrip(), text[:close].strip() or None
    return text, None


def _partial_tag_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    if tag[0] not in text[1 - len(tag) :]:
        return 0
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


_START, _THINK_LEAD, _THINK, _AFTER, _TEXT = range(5)


class ThinkSplitter:
    """Incremental :func:`split_think` for streamed deltas.

    ``feed(delta)`` returns ``(text, reasoning)`` deltas; call ``flush()`` at the end of the
    stream. Tags split across deltas are held back until they can be decided. Only a leading
    ``<think>`` is recognised (a reply whose opening tag was in the prompt is passed as text).
    """

    __slots__ = ("_buf", "_state")

    def __init__(self) -> None:
        self._state = _START
        self._buf = ""

    def feed(self, delta: str) -> tuple[str, str]:
        state = self._state
        if state == _TEXT:
            return delta, ""
        if not delta:
            return "", ""
        buf = self._buf + delta
        self._buf = ""
        reasoning = ""
        if state == _START:
            stripped = buf.lstrip()
            if stripped.startswith(OPEN):
                buf = stripped[len(OPEN) :]
                state = _THINK_LEAD
            elif OPEN.startswith(stripped):  # only whitespace, or a partial "<think"
                self._buf = buf
                return "", ""
            else:
                self._state = _TEXT
                return buf, ""
        if state == _THINK_LEAD:
            buf = buf.lstrip()
            if not buf:
                self._state = _THINK_LEAD
                return "", ""
            state = _THINK
        if state == _THINK:
            end = buf.find(CLOSE)
            if end < 0:
                keep = _partial_tag_suffix(buf, CLOSE)
                body = buf[: len(buf) - keep]
                emit = body.rstrip()
                self._buf = buf[len(emit) :]  # trailing whitespace and a partial "</think"
                self._state = _THINK
                return "", emit
            reasoning = buf[:end].rstrip()
            buf = buf[end + len(CLOSE) :]
            state = _AFTER
        # state == _AFTER: drop the whitespace between </think> and the reply
        buf = buf.lstrip()
        if not buf:
            self._state = _AFTER
            return "", reasoning
        self._state = _TEXT
        return buf, reasoning

    def flush(self) -> tuple[str, str]:
        """What is still held back when the stream ends."""
        buf, self._buf = self._buf, ""
        if self._state == _START:
            return buf, ""
        if self._state in (_THINK, _THINK_LEAD):
            return "", buf.rstrip()
        return "", ""


def reply_and_reasoning(content: str, reasoning_field: Any) -> tuple[str, str | None]:
    """``(reply, reasoning)`` of a whole message: a separate reasoning field, when it says
    anything, wins over a ``<think>`` block in the content (and the reply then starts at its
    first non-space character)."""
    text, reasoning = split_think(content)
    if reasoning_field:
        reasoning = str(reasoning_field).strip() or reasoning
        text = text.lstrip()
    return text, reasoning


class ReasoningStream:
    """:func:`reply_and_reasoning` for streamed deltas: ``feed(content, reasoning_field)`` of
    each delta returns ``(text, reasoning)`` deltas; ``flush()`` at the end of the stream.

    After a delta with a separate reasoning field, the whitespace before the reply is dropped.
    """

    __slots__ = ("_splitter", "_strip")

    def __init__(self) -> None:
        self._splitter = ThinkSplitter()
        self._strip = False

    def feed(self, content: Any, reasoning_field: Any) -> tuple[str, str]:
        text = reasoning = ""
        if content and type(content) is str:
            text, reasoning = self._splitter.feed(content)
        if reasoning_field and type(reasoning_field) is str:
            reasoning = reasoning_field + reasoning
            self._strip = True
        if self._strip and text:
            text = text.lstrip()
            self._strip = not text
        return text, reasoning

    def flush(self) -> tuple[str, str]:
        """What is still held back when the stream ends."""
        return self._splitter.flush()
