"""The FastAPI app: Ollama and OpenAI chat endpoints plus ``/sim/*`` controls."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tutorlab_sim import ollama_api, openai_api
from tutorlab_sim.api_docs import (
    API_KEY,
    chat_answers,
    chat_body,
    config_body,
    control_answers,
)
from tutorlab_sim.config import ConfigUpdateError, SimConfig, updated_config
from tutorlab_sim.faults import FaultInjector
from tutorlab_sim.generation import BadRequest, ChatCall, generate, prompt_tokens
from tutorlab_sim.mirror import load_mirror
from tutorlab_sim.replies import Responder
from tutorlab_sim.request_fields import cut_off
from tutorlab_sim.stats import SimStats

SIMULATOR = "tutorlab-sim"
SIMULATOR_VERSION = "0.1.0"
#: the Ollama version the simulator answers like
OLLAMA_VERSION = "0.12.0"
#: models always listed by /api/tags and /v1/models (any other name is accepted too)
DEFAULT_MODELS: tuple[str, ...] = ("qwen3:8b", "qwen3:0.6b")
MAX_LISTED_MODELS = 50
_STARTED = int(time.time())


class Simulator:
    """The state behind one app: config, reply engine, fault injector, counters."""

    def __init__(self, config: SimConfig) -> None:
        mirror = load_mirror(config.dataset_mirror)
        self.config = config
        self.responder = Responder(mirror, config)
        self.faults = FaultInjector(config)
        self.stats = SimStats()
        self.models: dict[str, None] = dict.fromkeys(DEFAULT_MODELS)

    def update(self, config: SimConfig) -> None:
        self.config = config
        self.responder.config = config
        self.faults.configure(config)

    def seen_model(self, name: str) -> None:
        if name not in self.models and len(self.models) < MAX_LISTED_MODELS:
            self.models[name] = None


def _digest(name: str) -> str:
    return hashlib.sha256(f"{SIMULATOR}:{name}".encode()).hexdigest()


class BodyTooLarge(Exception):
    """A request body over ``max_body_bytes``."""


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (BodyTooLarge) once it passes ``limit`` bytes: at once when
    Content-Length says so, else as the chunks arrive."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def _too_large(limit: int) -> JSONResponse:
    message = f"body: larger than the {limit}-byte limit (TUTORLAB_SIM_MAX_BODY_BYTES)"
    return JSONResponse({"error": message}, status_code=413)


def _invalid(errors: list[dict[str, Any]]) -> JSONResponse:
    """422 in the services' shape: ``error`` sums up, each ``detail`` entry names its field."""
    detail = [
        {**e, "field": ".".join(str(part) for part in e["loc"][1:]) or "body"} for e in errors
    ]
    summary = "; ".join(f"{d['field']}: {d['msg']}" for d in detail)
    return JSONResponse({"error": summary, "detail": detail}, status_code=422)


def _unauthorized(sim: Simulator, request: Request) -> JSONResponse | None:
    """The services' rule for a control change: with a key set, ``Authorization: Bearer <key>``
    or 401. None when the request may go on."""
    expected = sim.config.api_key_value()
    if not expected:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected):
        return None
    return JSONResponse(
        {"error": "missing or invalid API key: send 'Authorization: Bearer <TUTORLAB_API_KEY>'"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def create_app(config: SimConfig | None = None) -> FastAPI:
    """Build the simulator app; the dataset mirror is loaded here, once."""
    sim = Simulator(config or SimConfig())
    app = FastAPI(
        title="TutorLab model simulator",
        version=SIMULATOR_VERSION,
        description="Speaks Ollama and OpenAI chat; for demos, tests and load tests.",
    )
    app.state.sim = sim

    async def chat(request: Request, api: str) -> Response:
        started = time.perf_counter_ns()
        wire: Any = ollama_api if api == "ollama" else openai_api
        endpoint = "POST /api/chat" if api == "ollama" else "POST /v1/chat/completions"
        sim.stats.hit(endpoint)
        try:
            raw = json.loads(await read_body(request, sim.config.max_body_bytes))
        except BodyTooLarge:
            return _too_large(sim.config.max_body_bytes)
        except (ValueError, RecursionError) as exc:
            return _bad_request(api, BadRequest(f"body is not valid JSON: {exc}"))
        try:
            call: ChatCall = wire.parse_chat(raw)
        except BadRequest as exc:
            return _bad_request(api, exc)
        sim.seen_model(call.model)
        fault = sim.faults.draw(call.stream)
        if fault is not None:
            sim.stats.by_fault[fault] += 1
        if fault == "rate_limit":
            return _rate_limited(api, sim.config.retry_after_s)
        if fault == "error":
            return _server_error(api)
        delay = sim.faults.latency_s() + (sim.config.timeout_hang_s if fault == "timeout" else 0)
        if delay > 0:
            await asyncio.sleep(delay)
        reply = sim.responder.reply(call.messages, call.seed)
        sim.stats.by_outcome[reply.outcome] += 1
        gen = generate(reply, call.think, call.max_tokens)
        prompt_count = prompt_tokens(call.messages)
        if api == "ollama":
            if call.stream:
                elapsed = time.perf_counter_ns() - started
                body = ollama_api.stream_lines(call, gen, prompt_count, elapsed, fault)
                return Response(body, media_type=ollama_api.MEDIA_NDJSON)
            elapsed = time.perf_counter_ns() - started
            body = ollama_api.chat_body(call, gen, prompt_count, elapsed)
            if fault == "malformed":
                body = cut_off(body)
            return Response(body, media_type=ollama_api.MEDIA_JSON)
        if call.stream:
            body = openai_api.stream_events(call, gen, prompt_count, fault)
            return Response(body, media_type=openai_api.MEDIA_SSE)
        body = openai_api.chat_body(call, gen, prompt_count)
        if fault == "malformed":
            body = cut_off(body)
        return Response(body, media_type=openai_api.MEDIA_JSON)

    @app.post(
        "/api/chat",
        tags=["ollama"],
        responses=chat_answers(ollama=True),
        openapi_extra=chat_body(ollama=True),
    )
    async def ollama_chat(request: Request) -> Response:
        """Ollama chat (``stream`` defaults to true: NDJSON)."""
        return await chat(request, "ollama")

    @app.post(
        "/v1/chat/completions",
        tags=["openai"],
        responses=chat_answers(ollama=False),
        openapi_extra=chat_body(ollama=False),
    )
    async def openai_chat(request: Request) -> Response:
        """OpenAI chat completions (``stream: true``: server-sent events)."""
        return await chat(request, "openai")

    @app.get("/api/tags", tags=["ollama"])
    async def ollama_tags() -> dict[str, Any]:
        sim.stats.hit("GET /api/tags")
        modified = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(_STARTED))
        return {
            "models": [
                {
                    "name": name,
                    "model": name,
                    "modified_at": modified,
                    "size": 0,
                    "digest": _digest(name),
                    "details": {
                        "parent_model": "",
                        "format": "gguf",
                        "family": SIMULATOR,
                        "families": [SIMULATOR],
                        "parameter_size": "0B",
                        "quantization_level": "none",
                    },
                }
                for name in sim.models
            ]
        }

    @app.get("/api/version", tags=["ollama"])
    async def ollama_version() -> dict[str, Any]:
        sim.stats.hit("GET /api/version")
        return {
            "version": OLLAMA_VERSION,
            "simulator": SIMULATOR,
            "simulator_version": SIMULATOR_VERSION,
        }

    @app.get("/v1/models", tags=["openai"])
    async def openai_models() -> dict[str, Any]:
        sim.stats.hit("GET /v1/models")
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": _STARTED, "owned_by": SIMULATOR}
                for name in sim.models
            ],
        }

    @app.get("/healthz", tags=["sim"])
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "simulator": SIMULATOR,
            "questions": len(sim.responder.index),
        }

    @app.get("/sim/config", tags=["sim"])
    async def get_config() -> dict[str, Any]:
        """The runtime config (never the API key)."""
        return sim.config.public()

    @app.put(
        "/sim/config",
        tags=["sim"],
        dependencies=[API_KEY],
        responses=control_answers(413, 422),
        openapi_extra=config_body(),
    )
    async def put_config(request: Request) -> Response:
        """Change some config fields (the others stay); 422 names any bad field. With an API
        key set (TUTORLAB_SIM_API_KEY or TUTORLAB_API_KEY), only with ``Authorization: Bearer``."""
        refused = _unauthorized(sim, request)
        if refused is not None:
            return refused
        try:
            update = json.loads(await read_body(request, sim.config.max_body_bytes))
        except BodyTooLarge:
            return _too_large(sim.config.max_body_bytes)
        except (ValueError, RecursionError) as exc:
            detail = [{"loc": ["body"], "msg": f"not valid JSON: {exc}", "type": "json_invalid"}]
            return _invalid(detail)
        try:
            new = updated_config(sim.config, update)
        except ConfigUpdateError as exc:
            return _invalid(exc.errors)
        sim.update(new)
        return JSONResponse(new.public())

    @app.get("/sim/stats", tags=["sim"])
    async def get_stats() -> dict[str, Any]:
        """Request counts by endpoint, injected fault and reply outcome."""
        return sim.stats.snapshot()

    @app.delete(
        "/sim/stats",
        tags=["sim"],
        status_code=204,
        dependencies=[API_KEY],
        responses=control_answers(),
    )
    async def reset_stats(request: Request) -> Response:
        """Zero every counter (with an API key set, only with ``Authorization: Bearer``)."""
        refused = _unauthorized(sim, request)
        if refused is not None:
            return refused
        sim.stats.reset()
        return Response(status_code=204)

    return app


def _bad_request(api: str, exc: BadRequest) -> Response:
    if api == "ollama":
        return Response(ollama_api.error_body(str(exc)), 400, media_type=ollama_api.MEDIA_JSON)
    return Response(openai_api.bad_request_body(exc), 400, media_type=openai_api.MEDIA_JSON)


def _rate_limited(api: str, retry_after_s: int) -> Response:
    headers = {"Retry-After": str(retry_after_s)}
    message = f"rate limit exceeded (simulated); retry after {retry_after_s}s"
    if api == "ollama":
        body = ollama_api.error_body(message)
        return Response(body, 429, headers=headers, media_type=ollama_api.MEDIA_JSON)
    body = openai_api.error_body(message, "requests", "rate_limit_exceeded")
    return Response(body, 429, headers=headers, media_type=openai_api.MEDIA_JSON)


def _server_error(api: str) -> Response:
    message = "simulated server error (tutorlab-sim)"
    if api == "ollama":
        return Response(ollama_api.error_body(message), 500, media_type=ollama_api.MEDIA_JSON)
    body = openai_api.error_body(message, "server_error", "server_error")
    return Response(body, 500, media_type=openai_api.MEDIA_JSON)
