"""HTTP plumbing shared by the clients: one pooled transport, the API key, retries, errors.

Requests go straight to an httpx transport (a mock in tests, or one a caller passes): an
``httpx.AsyncClient`` on top would add, to every request, header and cookie merging, auth and
redirect hooks and a cookie jar update, none of which a model API needs (about a third of the
client's CPU per request in the eval benchmark). With no transport given, complete requests go
to aiohttp's connection pool directly, without httpx's request and response objects (another
~15% of the worker's CPU per benchmark item); streams go through the httpx adapter on the same
pool.

A malformed body in a 2xx response is *not* retried (``retryable=False``): it means the
base URL points at something that is not the model API (a proxy page, a wrong path) or the
server is broken in a way a retry does not fix, and a body cut in transit already surfaces as
a (retried) transport error. Only connection errors, timeouts, 408, 429 and 5xx are retried.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Protocol, TypeVar

import aiohttp
import httpx
import orjson
import yarl
from httpx_aiohttp import AiohttpTransport

from tutorlab.clients.errors import AttemptFailure, ModelEndpointError
from tutorlab.clients.results import ChatChunk
from tutorlab.clients.retry import (
    RetryPolicy,
    is_retryable_status,
    parse_http_date,
    parse_retry_after,
)
from tutorlab.contracts.endpoints import ModelEndpoint

T = TypeVar("T")
Decoder = Callable[[AsyncIterator[bytes]], AsyncGenerator[ChatChunk, None]]
#: what one attempt fails with: a failure it names, its time limit, or the transport's error
_ATTEMPT_ERRORS = (AttemptFailure, TimeoutError, httpx.RequestError, aiohttp.ClientError)

_REDACTED = "[redacted]"
_MAX_MESSAGE = 500
_TIMEOUT_KIND: dict[type[Exception], str] = {
    httpx.ConnectTimeout: "connect timeout",
    httpx.ReadTimeout: "read timeout",
    httpx.WriteTimeout: "write timeout",
    httpx.PoolTimeout: "timeout waiting for a pooled connection",
}


def loads_line(line: bytes) -> Any:
    """One JSON document (UTF-8 bytes); ValueError when malformed (or not UTF-8)."""
    return orjson.loads(line)


def dumps(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON for a request body."""
    return orjson.dumps(payload)


def error_message(content: bytes) -> str:
    """The human-readable message of an error body (Ollama, OpenAI, vLLM, FastAPI or text)."""
    text = content.decode("utf-8", "replace").strip()
    if not text:
        return "(empty body)"
    try:
        data = json.loads(text)
    except ValueError:
        return _clip(text)
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            err = err.get("message") or err
        if err is None:
            err = data.get("message") or data.get("detail")
        if err is not None:
            return _clip(err if isinstance(err, str) else json.dumps(err))
    return _clip(text)


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "…"


class HttpReply(Protocol):
    """A complete response: an ``httpx.Response`` (read) or a :class:`Reply`."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...
    @property
    def is_success(self) -> bool: ...


@dataclass(slots=True, frozen=True)
class Reply:
    """A complete response read straight from aiohttp."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


def status_failure(response: HttpReply) -> AttemptFailure:
    """Why a non-2xx response failed; 408/429/5xx are retryable, honouring Retry-After."""
    status = response.status_code
    retryable = is_retryable_status(status)
    retry_after = None
    if retryable:
        headers = response.headers
        retry_after = parse_retry_after(
            headers.get("retry-after"), now=parse_http_date(headers.get("date"))
        )
    return AttemptFailure(
        f"HTTP {status}: {error_message(response.content)}",
        retryable=retryable,
        status_code=status,
        retry_after=retry_after,
    )


def transport_failure(exc: httpx.RequestError | aiohttp.ClientError, where: str) -> AttemptFailure:
    """Why an attempt failed below HTTP: timeouts and connection errors are retryable.

    The aiohttp transport maps most aiohttp errors to httpx's; any it does not map is a
    connection-level failure too.
    """
    original = exc if isinstance(exc, aiohttp.ClientError) else exc.__cause__
    if isinstance(original, aiohttp.ClientError):
        # described from aiohttp's own error: the transport maps a refused connection to
        # httpx.ConnectTimeout, which would name the wrong cause
        if isinstance(original, aiohttp.ServerTimeoutError):
            return AttemptFailure(f"timeout calling {where}", retryable=True)
        name = (
            "ConnectError"
            if isinstance(original, aiohttp.ClientConnectorError)
            else type(original).__name__
        )
        return AttemptFailure(f"{name} calling {where}: {original}", retryable=True)
    assert isinstance(exc, httpx.RequestError)
    kind = _TIMEOUT_KIND.get(type(exc))
    if kind is None and isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
    if kind is not None:
        return AttemptFailure(f"{kind} calling {where}", retryable=True)
    retryable = isinstance(exc, httpx.TransportError) and not isinstance(
        exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError
    )
    detail = str(exc) or "no detail"
    return AttemptFailure(f"{type(exc).__name__} calling {where}: {detail}", retryable=retryable)


def malformed(what: str, detail: str = "") -> AttemptFailure:
    """A 2xx body that is not what the API promises: never retried (see the module doc)."""
    suffix = f" ({_clip(detail)})" if detail else ""
    return AttemptFailure(f"malformed {what} from endpoint{suffix}", retryable=False)


@functools.cache
def default_tls() -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle costs ~50 ms each time."""
    return ssl.create_default_context()


class EndpointHttp:
    """Sends requests to one endpoint with bounded concurrency, retries and a deadline."""

    def __init__(
        self,
        endpoint: ModelEndpoint,
        *,
        retry: RetryPolicy,
        transport: httpx.AsyncBaseTransport | None,
        env: Mapping[str, str] | None,
    ) -> None:
        self.name = endpoint.name
        self.retry = retry
        self.base_url = endpoint.base_url.rstrip("/")
        self._key_env = endpoint.api_key_env
        self._env: Mapping[str, str] = os.environ if env is None else env
        timeout = httpx.Timeout(retry.attempt_timeout_s, connect=retry.connect_timeout_s)
        #: a stream's reads are timed by the transport; a whole request() attempt is timed by
        #: asyncio.timeout around it, so its reads need no timer of their own (aiohttp re-arms
        #: one on every chunk received)
        self._stream_extensions = {"timeout": timeout.as_dict()}
        self._extensions = {"timeout": {**timeout.as_dict(), "read": None}}
        #: a transport passed in is the caller's to close; the one made here is closed here
        self._owns_transport = transport is None
        self._session: aiohttp.ClientSession | None = None
        self._pool_size = endpoint.max_concurrency
        # the pool's connect limits; an attempt as a whole is timed by asyncio.timeout
        self._session_timeout = aiohttp.ClientTimeout(
            total=None, connect=retry.attempt_timeout_s, sock_connect=retry.connect_timeout_s
        )
        if transport is None:
            # httpcore's own pool scans every connection on each request start and end
            # (quadratic in pool size) and costs ~2x aiohttp's CPU per request
            size = endpoint.max_concurrency
            limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
            transport = AiohttpTransport(verify=default_tls(), limits=limits, client=self._pool)
        self.transport = transport
        self._slots = asyncio.Semaphore(endpoint.max_concurrency)
        self._urls: dict[str, tuple[httpx.URL, str]] = {}
        self._yarl: dict[str, yarl.URL] = {}

    def _pool(self) -> aiohttp.ClientSession:
        """The aiohttp session of the transport made here (made on first use, in the loop)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size, ssl=default_tls(), keepalive_timeout=5.0
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._session_timeout
            )
        return self._session

    async def _fetch(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> Reply:
        """One complete attempt through aiohttp's pool (the transport made here)."""
        url = self._yarl.get(path)
        if url is None:
            url = self._yarl[path] = yarl.URL(str(self.url(path)[0]))
        async with self._pool().request(
            method, url, headers=headers, data=body, allow_redirects=False
        ) as response:
            return Reply(response.status, response.headers, await response.read())

    def url(self, path: str) -> tuple[httpx.URL, str]:
        """The URL for ``path`` and how to name it in errors (without any user:password)."""
        cached = self._urls.get(path)
        if cached is None:
            url = httpx.URL(self.base_url + path)
            cached = self._urls[path] = (url, str(url.copy_with(username=None, password=None)))
        return cached

    def _headers(self, accept: str) -> tuple[dict[str, str], str | None]:
        headers = {"content-type": "application/json", "accept": accept}
        if self._key_env is None:
            return headers, None
        key = (self._env.get(self._key_env) or "").strip()
        if not key:
            raise ModelEndpointError(
                self.name,
                f"environment variable {self._key_env} is not set (it must hold the API key "
                "of this endpoint)",
            )
        if not (key.isascii() and key.isprintable()):
            raise ModelEndpointError(
                self.name,
                f"environment variable {self._key_env} holds an API key with characters that "
                "cannot go in an HTTP header",
            )
        headers["authorization"] = "Bearer " + key
        return headers, key

    def _error(
        self, failure: AttemptFailure, attempts: int, key: str | None, note: str = ""
    ) -> ModelEndpointError:
        cause = failure.cause + note
        if key and key in cause:
            cause = cause.replace(key, _REDACTED)
        error = ModelEndpointError(
            self.name,
            cause,
            status_code=failure.status_code,
            retryable=failure.retryable,
            attempts=attempts,
        )
        error.__cause__ = failure.__cause__
        return error

    def _timed_out(self, what: str, limit: float, where: str) -> AttemptFailure:
        if limit < self.retry.attempt_timeout_s:
            cause = f"{what} from {where} before the {self.retry.deadline_s:g} s deadline"
        else:
            cause = f"{what} within {limit:g} s from {where}"
        return AttemptFailure(cause, retryable=True)

    def _delay_or_raise(
        self, failure: AttemptFailure, attempt: int, deadline: float, key: str | None
    ) -> float:
        """Seconds to sleep before the next attempt, or raise when giving up."""
        policy = self.retry
        if not failure.retryable:
            raise self._error(failure, attempt, key)
        if attempt >= policy.max_attempts:
            raise self._error(failure, attempt, key, f" (gave up after {attempt} attempts)")
        told = failure.retry_after
        delay = policy.backoff(attempt) if told is None else told
        if policy.clock() + delay >= deadline:
            why = "retrying" if told is None else f"Retry-After of {told:g} s"
            raise self._error(
                failure,
                attempt,
                key,
                f" ({why} would pass the {policy.deadline_s:g} s deadline; "
                f"gave up after {attempt} attempts)",
            )
        return delay

    def _failure(
        self, exc: BaseException, limit: float, where: str, waiting_for: str
    ) -> AttemptFailure:
        """What an attempt's exception (one of ``_ATTEMPT_ERRORS``) says about retrying it."""
        if isinstance(exc, AttemptFailure):
            return exc
        if isinstance(exc, TimeoutError):  # before aiohttp's errors: its timeouts are ours too
            return self._timed_out(waiting_for, limit, where)
        assert isinstance(exc, httpx.RequestError | aiohttp.ClientError)
        failure = transport_failure(exc, where)
        failure.__cause__ = exc
        return failure

    async def _retrying(
        self,
        where: str,
        key: str | None,
        waiting_for: str,
        attempt: Callable[..., Awaitable[T]],
        *args: Any,
    ) -> T:
        """``attempt(limit, attempts, *args)`` until one succeeds, with backoff between
        attempts, within the policy's attempts and deadline (``limit``: the seconds that
        attempt may take; ``attempts``: its number); returns its result, or raises the
        ModelEndpointError of the last failure."""
        policy = self.retry
        deadline = policy.clock() + policy.deadline_s
        attempts = 0
        while True:
            attempts += 1
            limit = max(0.0, min(policy.attempt_timeout_s, deadline - policy.clock()))
            try:
                return await attempt(limit, attempts, *args)
            except _ATTEMPT_ERRORS as exc:
                failure = self._failure(exc, limit, where, waiting_for)
            await policy.sleep(self._delay_or_raise(failure, attempts, deadline, key))

    def request(
        self, method: str, path: str, body: bytes | None, parse: Callable[[Any], T]
    ) -> Awaitable[tuple[T, float, int]]:
        """``parse(json)`` of the first successful attempt, its latency in ms, attempts made.

        (A plain function returning the retry loop's coroutine: one frame less per request.)
        """
        url, where = self.url(path)
        headers, key = self._headers("application/json")
        return self._retrying(
            f"{method} {where}",
            key,
            "no complete response",
            self._complete,
            method,
            path,
            url,
            headers,
            body,
            parse,
        )

    async def _complete(
        self,
        limit: float,
        attempts: int,
        method: str,
        path: str,
        url: httpx.URL,
        headers: dict[str, str],
        body: bytes | None,
        parse: Callable[[Any], T],
    ) -> tuple[T, float, int]:
        """One attempt at a complete request, timed by ``limit``: the parsed 2xx body, its
        latency in ms and ``attempts``."""
        async with self._slots:
            started = perf_counter()
            async with asyncio.timeout(limit):
                response = await self._attempt(method, path, url, headers, body)
            latency_ms = (perf_counter() - started) * 1000.0
        if not response.is_success:
            raise status_failure(response)
        try:
            data = orjson.loads(response.content)
        except ValueError:
            raise malformed("JSON", f"HTTP {response.status_code}") from None
        try:
            return parse(data), latency_ms, attempts
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
            raise malformed("response", f"{type(exc).__name__}: {exc}") from None

    async def stream(self, path: str, body: bytes, decode: Decoder) -> AsyncIterator[ChatChunk]:
        """The decoded chunks of a streamed POST.

        Failures before the first chunk is decoded are retried like :meth:`request`; after
        that the error is raised (``retryable`` tells whether re-sending could help).
        """
        url, where = self.url(path)
        where = f"POST {where}"
        headers, key = self._headers("text/event-stream, application/x-ndjson")
        opened = await self._retrying(
            where, key, "no response", self._open_stream, url, headers, body, decode
        )
        response, chunks, first, limit, attempts = opened
        failure: AttemptFailure | None = None
        try:
            if first is not None:
                yield first
            async for chunk in chunks:
                yield chunk
        except _ATTEMPT_ERRORS as exc:
            failure = self._failure(exc, limit, where, "no response")
        finally:
            await chunks.aclose()
            await response.aclose()
            self._slots.release()
        if failure is not None:
            note = " (after part of the reply had been streamed)"
            raise self._error(failure, attempts, key, note)

    async def _open_stream(
        self,
        limit: float,
        attempts: int,
        url: httpx.URL,
        headers: dict[str, str],
        body: bytes,
        decode: Decoder,
    ) -> tuple[httpx.Response, AsyncGenerator[ChatChunk, None], ChatChunk | None, float, int]:
        """One attempt at a stream, up to its first decoded chunk (``limit`` times the wait
        for the response's headers). Once it returns, the caller holds the response, the
        decoder and one of the endpoint's concurrency slots, and releases them."""
        await self._slots.acquire()
        response: httpx.Response | None = None
        chunks: AsyncGenerator[ChatChunk, None] | None = None
        try:
            async with asyncio.timeout(limit):
                response = await self._send("POST", url, headers, body, self._stream_extensions)
            if not response.is_success:
                await response.aread()
                raise status_failure(response)
            chunks = decode(response.aiter_bytes())
            return response, chunks, await anext(chunks, None), limit, attempts
        except BaseException:
            if chunks is not None:
                await chunks.aclose()
            if response is not None:
                await response.aclose()
            self._slots.release()
            raise

    async def _attempt(
        self, method: str, path: str, url: httpx.URL, headers: dict[str, str], body: bytes | None
    ) -> HttpReply:
        """One attempt, read to the end."""
        if self._owns_transport:
            return await self._fetch(method, path, headers, body)
        response = await self._send(method, url, headers, body)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        body: bytes | None,
        extensions: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One attempt, its body not read yet."""
        request = httpx.Request(
            method, url, content=body, headers=headers, extensions=extensions or self._extensions
        )
        return await self.transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._owns_transport:
            await self.transport.aclose()
            if self._session is not None:
                await self._session.close()
