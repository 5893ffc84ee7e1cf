"""The error answers in each service's OpenAPI document, as :mod:`tutorlab.service.errors` sends
them.

Routes name the answers that depend on what they do (``responses=errors(404, 409)``);
:func:`document_common_errors` adds those every service gives alike, from what an operation is:
401 where it names the API key's security scheme, 413 where it takes a body and 400 where that
body may not decode (FastAPI's JSON, Starlette's multipart), 422 where it takes any input, in the
one validation shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from tutorlab.jobs.models import JobPublic


class ErrorBody(BaseModel):
    """Every error answer: ``error`` says what was wrong and, for bad input, which field
    (``"field: what is wrong"``). Some answers add fields of their own (a 502 names the
    ``endpoint`` and the ``cause``)."""

    model_config = ConfigDict(extra="allow")

    error: str


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str = Field(description="the field, dotted: 'items.0.response', 'query.limit'")
    loc: list[str | int] = Field(description="where it is: body, query, path or header, then keys")
    msg: str
    type: str = Field(description="the kind of error: 'missing', 'int_parsing', 'value_error' …")


class ValidationErrorBody(BaseModel):
    """A 422: ``error`` sums the problems up, ``detail`` has one entry per invalid field."""

    model_config = ConfigDict(extra="allow")

    error: str
    detail: list[FieldError]


DESCRIPTIONS: dict[int, str] = {
    400: "The body cannot be decoded (not UTF-8, or not the declared content type).",
    401: "Missing or invalid API key: send 'Authorization: Bearer <TUTORLAB_API_KEY>'.",
    404: "Not found: the error names what.",
    409: "Conflicts with the current state: the error says with what.",
    413: "The body is over the service's size limit.",
    415: "The body's content type is not one this route takes.",
    422: "Invalid input: the error and each detail entry name the field.",
    502: "The model endpoint failed: the error names it and the cause.",
    503: "A service this one depends on is unreachable.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status with its description and body model."""
    return {
        code: {
            "model": ValidationErrorBody if code == 422 else ErrorBody,
            "description": DESCRIPTIONS[code],
        }
        for code in codes
    }


def submitted(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that submits a job (:func:`~tutorlab.service.jobs_api.
    submit_job`): 202 with the job, 200 with the same job for an ``Idempotency-Key`` seen before,
    409 for one seen before with other parameters; ``codes`` are the route's own checks."""
    return {
        202: {"model": JobPublic, "description": "Queued: poll the Location."},
        200: {
            "model": JobPublic,
            "description": "The job this Idempotency-Key submitted before; nothing new queued.",
        },
        **errors(409, *codes),
    }


def _takes_input(operation: dict[str, Any]) -> bool:
    return bool(operation.get("parameters")) or "requestBody" in operation


def _may_be_undecodable(operation: dict[str, Any]) -> bool:
    """Whether a body can be a 400 (bytes that cannot be decoded): one FastAPI reads (a JSON-only
    body: not UTF-8) or a multipart one (Starlette's form parser: no boundary). The routes that
    read the other types themselves (YAML, raw JSONL, JSON beside them) answer 422."""
    content = set(operation["requestBody"].get("content", {}))
    return content == {"application/json"} or "multipart/form-data" in content


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _response(code: int, model: type[BaseModel]) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[code],
        "content": {"application/json": {"schema": _ref(model)}},
    }


def document_common_errors(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """An ``app.openapi`` that adds the common error answers to FastAPI's own document."""
    fastapi_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = fastapi_openapi()
        add_common_errors(schema)
        app.openapi_schema = schema
        return schema

    return openapi


def add_common_errors(schema: dict[str, Any]) -> None:
    """401 on operations that name a security scheme (the API key), 400 and 413 on those that
    take a body, and 422 on those that take any input, in the shape the services send."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorBody, FieldError, ValidationErrorBody):
        components[model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            if operation.get("security"):
                answers.setdefault("401", _response(401, ErrorBody))
            if "requestBody" in operation:
                answers.setdefault("413", _response(413, ErrorBody))
                if _may_be_undecodable(operation):
                    answers.setdefault("400", _response(400, ErrorBody))
            if _takes_input(operation) or "422" in answers:
                answers["422"] = _response(422, ValidationErrorBody)
            operation["responses"] = dict(sorted(answers.items()))
    # FastAPI's own 422 models, replaced above by the shape the services send
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{unused}"' not in json.dumps(schema["paths"]):
            components.pop(unused, None)
