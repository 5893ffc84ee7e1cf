"""Async clients for model endpoints (Ollama, OpenAI-compatible, Tinker), with retries.

Build one per endpoint with :func:`build_client` and reuse it: it holds a connection pool
sized from the endpoint's ``max_concurrency``.
"""

from tutorlab.clients.errors import ModelEndpointError
from tutorlab.clients.factory import build_client
from tutorlab.clients.ollama import DEFAULT_NUM_CTX, OllamaClient
from tutorlab.clients.openai_compat import OpenAICompatClient
from tutorlab.clients.protocol import ModelClient
from tutorlab.clients.results import ChatChunk, ChatResult
from tutorlab.clients.retry import RetryPolicy, parse_retry_after
from tutorlab.clients.think import ThinkSplitter, split_think

__all__ = [
    "DEFAULT_NUM_CTX",
    "ChatChunk",
    "ChatResult",
    "ModelClient",
    "ModelEndpointError",
    "OllamaClient",
    "OpenAICompatClient",
    "RetryPolicy",
    "ThinkSplitter",
    "build_client",
    "parse_retry_after",
    "split_think",
]
