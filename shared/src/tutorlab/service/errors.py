"""Error responses: every 4xx says what was wrong and where; no 500 for bad input."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tutorlab.service.json_body import unreadable_json

log = logging.getLogger("tutorlab.errors")


#: a model-level check names its field first, by convention: ``ValueError("model: …")``
_NAMED_FIELD = re.compile(r"^Value error, ([A-Za-z_][A-Za-z0-9_.]*): ")


def _field(loc: tuple[Any, ...] | list[Any], msg: str = "") -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    named = _NAMED_FIELD.match(msg)
    if named and (not parts or parts[-1] != named.group(1)):
        parts.append(named.group(1))
    return ".".join(parts) or "body"


def validation_detail(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    detail = []
    for error in errors:
        loc = error.get("loc", ())
        msg = error.get("msg")
        field = _field(loc, str(msg or "") if error.get("type") == "value_error" else "")
        if error.get("type") == "json_invalid":
            # FastAPI puts the character offset in loc; the field is the body itself
            reason = (error.get("ctx") or {}).get("error")
            position = loc[-1] if loc and isinstance(loc[-1], int) else None
            field = "body"
            msg = f"{msg}: {reason}" if reason else msg
            msg = f"{msg} (at character {position})" if position is not None else msg
        detail.append({"field": field, "loc": list(loc), "msg": msg, "type": error.get("type")})
    return detail


#: a route's own 422 names its field first: ``"items.0.response: missing"``
_LEADING_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]*): (.*)$", re.DOTALL)


def _loc(field: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in field.split(".")]


def field_errors(content: dict[str, Any]) -> list[dict[str, Any]]:
    """A 422's ``detail`` in the one shape every validation error has (``field``, ``loc``,
    ``msg``, ``type``), also for a route's own 422 (a message naming its field first, or entries
    with only some of the keys); other keys an entry has (``line``, ``code``) stay."""
    entries = content.get("detail")
    if not isinstance(entries, list):
        named = _LEADING_FIELD.match(str(content["error"]))
        field, msg = named.groups() if named else ("body", str(content["error"]))
        entries = [{"field": field, "msg": msg}]
    detail = []
    for entry in entries:
        entry = dict(entry) if isinstance(entry, dict) else {"msg": str(entry)}
        field = str(entry.get("field") or "body")
        entry["field"] = field
        entry.setdefault("loc", _loc(field))
        entry["msg"] = str(entry.get("msg", entry.get("message", "")))
        entry.setdefault("type", "value_error")
        detail.append(entry)
    return detail


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = validation_detail(list(exc.errors()))
        summary = "; ".join(f"{d['field']}: {d['msg']}" for d in detail)
        return JSONResponse(status_code=422, content={"error": summary, "detail": detail})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        unreadable = await unreadable_json(request, exc)
        if unreadable is not None:
            return JSONResponse(status_code=422, content=unreadable)
        detail = exc.detail
        content: dict[str, Any]
        if isinstance(detail, dict):
            content = {"error": str(detail.get("error", detail)), **detail}
        else:
            content = {"error": str(detail)}
        if exc.status_code == 422:
            content["detail"] = field_errors(content)
        return JSONResponse(
            status_code=exc.status_code, content=content, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            status_code=500,
            content={"error": f"internal error ({type(exc).__name__}); see the service log"},
        )
