"""Build the right client for an endpoint's kind."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from tutorlab.clients.ollama import OllamaClient
from tutorlab.clients.openai_compat import OpenAICompatClient
from tutorlab.clients.protocol import ModelClient
from tutorlab.clients.retry import RetryPolicy
from tutorlab.contracts.endpoints import EndpointKind, ModelEndpoint


def build_client(
    endpoint: ModelEndpoint,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
    env: Mapping[str, str] | None = None,
) -> ModelClient:
    """A client for ``endpoint``: ``ollama`` → OllamaClient; ``openai`` and ``tinker`` (Tinker's
    OpenAI-compatible API) → OpenAICompatClient.

    ``transport`` swaps the HTTP edge (tests; it stays open after ``aclose``, for the caller to
    close or share); ``env`` is where the API key is looked up (default ``os.environ``).
    """
    kind = endpoint.kind
    if kind == EndpointKind.ollama:
        return OllamaClient(endpoint, retry=retry, transport=transport, env=env)
    if kind in (EndpointKind.openai, EndpointKind.tinker):
        return OpenAICompatClient(endpoint, retry=retry, transport=transport, env=env)
    known = ", ".join(k.value for k in EndpointKind)
    raise ValueError(f"kind: unknown endpoint kind {kind!r} (expected one of {known})")
