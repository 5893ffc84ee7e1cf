"""Faults in scoring for tests: a scorer that raises on a marked reply, one that takes seconds
of CPU on another, and a model transport that replaces chosen replies (a 5,000-digit number, a
marked reply) on their way back."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tutorlab.scoring import verdicts
from tutorlab.scoring.verdicts import MathVerdict

#: a reply holding this makes the math rules raise under ``raising_scorer``
BOOM = "this reply makes the scorer raise"
#: a reply holding this takes the math rules ``SLOW_S`` seconds of CPU under ``slow_scorer``
SLOW = "this reply takes the scorer seconds"
SLOW_S = 3.0
#: past Python's int-string limit (4,300 digits): once raised deep in number parsing
HUGE_NUMBER = "9" * 5000


@pytest.fixture
def raising_scorer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The math rules raise for any reply holding ``BOOM`` (a scorer bug, as it would be)."""
    real = verdicts.score_math_response

    def score(gold: str, response: str, **options: Any) -> MathVerdict:
        if BOOM in response:
            raise RuntimeError("rule exploded")
        return real(gold, response, **options)

    monkeypatch.setattr(verdicts, "score_math_response", score)


@pytest.fixture
def slow_scorer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The math rules spend ``SLOW_S`` seconds of CPU (Python code, as a slow rule would) on a
    reply holding ``SLOW``."""
    real = verdicts.score_math_response

    def score(gold: str, response: str, **options: Any) -> MathVerdict:
        if SLOW in response:
            deadline = time.monotonic() + SLOW_S
            while time.monotonic() < deadline:
                pass
        return real(gold, response, **options)

    monkeypatch.setattr(verdicts, "score_math_response", score)


class ReplacingReplies(httpx.AsyncBaseTransport):
    """Ollama ``/api/chat`` answers from ``inner``, the reply to the n-th distinct prompt replaced
    by ``replies[n]`` (the same prompt always gets the same reply); ``replaced`` maps each
    replaced prompt to its reply."""

    def __init__(self, inner: httpx.AsyncBaseTransport, replies: list[str]) -> None:
        self.inner = inner
        self.pending: Iterator[str] = iter(replies)
        self.replaced: dict[str, str] = {}
        self.seen: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path != "/api/chat":
            return response
        prompt = json.dumps(json.loads(await request.aread())["messages"])
        if prompt not in self.seen:
            self.seen.add(prompt)
            reply = next(self.pending, None)
            if reply is not None:
                self.replaced[prompt] = reply
        if prompt not in self.replaced or response.status_code != 200:
            return response
        body = json.loads(await response.aread())
        body["message"]["content"] = self.replaced[prompt]
        return httpx.Response(200, json=body)
