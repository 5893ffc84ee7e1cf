"""What the simulator's OpenAPI document says its routes take and answer.

The chat routes read their bodies themselves (to answer like Ollama and OpenAI do, not like
FastAPI), so their bodies and error answers are described here. The ``/sim/*`` controls answer
errors as the TutorLab services do: ``{"error"}``, and a 422 with ``detail`` entries naming each
field (``field``, ``loc``, ``msg``, ``type``). The simulator depends on no TutorLab package, so the
shapes are JSON Schema here rather than the services' models.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from fastapi.security import HTTPBearer

from tutorlab_sim.config import READ_ONLY_FIELDS, SimConfig

#: shows the API key in the document; the check itself is the app's ``_unauthorized``
API_KEY = Depends(
    HTTPBearer(
        auto_error=False,
        scheme_name="ApiKey",
        description="TUTORLAB_SIM_API_KEY (or TUTORLAB_API_KEY), when one is set",
    )
)

ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}
VALIDATION_ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["field", "loc", "msg", "type"],
            },
        },
    },
    "required": ["error", "detail"],
}
#: OpenAI's error object
OPENAI_ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"message": {"type": "string"}, "type": {"type": "string"}},
            "required": ["message", "type"],
        }
    },
    "required": ["error"],
}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads a JSON body itself."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


UNAUTHORIZED = _json("With an API key set: missing or invalid 'Authorization: Bearer'.", ERROR)
TOO_LARGE = _json("The body is over max_body_bytes.", ERROR)


def control_answers(*extra: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a ``/sim/*`` control: 401, plus 413 and 422 for one with a body."""
    answers: dict[int | str, dict[str, Any]] = {401: UNAUTHORIZED}
    if 413 in extra:
        answers[413] = TOO_LARGE
    if 422 in extra:
        answers[422] = _json("A field cannot be set: each detail entry names it.", VALIDATION_ERROR)
    return answers


def config_body() -> dict[str, Any]:
    """``PUT /sim/config``'s body: any of the fields that may change at run time."""
    schema = SimConfig.model_json_schema()
    changeable = {
        name: field
        for name, field in schema["properties"].items()
        if name not in READ_ONLY_FIELDS and name != "api_key"
    }
    return _body(
        {
            "type": "object",
            "properties": changeable,
            "additionalProperties": False,
            **({"$defs": schema["$defs"]} if "$defs" in schema else {}),
        }
    )


_MESSAGES: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"role": {"type": "string"}, "content": {"type": "string"}},
        "required": ["role", "content"],
    },
}


def chat_body(*, ollama: bool) -> dict[str, Any]:
    """A chat route's body, as far as the simulator reads it (other fields are ignored)."""
    properties: dict[str, Any] = {
        "model": {"type": "string"},
        "messages": _MESSAGES,
        "stream": {"type": "boolean"},
        "seed": {"type": "integer"},
    }
    if not ollama:
        properties["max_tokens"] = {"type": "integer", "minimum": 1}
    return _body({"type": "object", "properties": properties, "required": ["model", "messages"]})


def chat_answers(*, ollama: bool) -> dict[int | str, dict[str, Any]]:
    """A chat route's answers, in its API's own shapes; 429 and 500 are injected faults."""
    error = ERROR if ollama else OPENAI_ERROR
    streamed = "application/x-ndjson" if ollama else "text/event-stream"
    return {
        200: {
            "description": "The reply; streamed when the body says so.",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                streamed: {"schema": {"type": "string"}},
            },
        },
        400: _json("The body is not a chat request: the error names the field.", error),
        413: TOO_LARGE,
        429: _json("Injected fault (rate_limit_rate): retry after Retry-After.", error),
        500: _json("Injected fault (error_rate).", error),
    }
