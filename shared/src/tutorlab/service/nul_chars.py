"""No NUL character in a request's path, query or body strings: no id, name or filter holds one,
and PostgreSQL refuses it in a text parameter (a 500 from every lookup or insert it reached; its
``json`` columns take ``\\u0000`` but the text columns a body's strings also go to do not).
422 naming the part, in the usual validation shape.

The path and the query are checked by :class:`RefuseNul` before the app runs. A JSON body is
checked by :func:`refuse_nul_in_json_body`, a dependency of every route (inside the app, so the
body is read once, through the body-size cap, and kept for the route); a route that parses a
body of another form (YAML) checks what it parsed with :func:`nul_path`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["NUL_MSG", "RefuseNul", "nul_path", "refuse_nul_in_json_body"]

#: what a 422 says of a field holding a NUL
NUL_MSG = "contains a NUL character"


def _nul_field(scope: Scope) -> str | None:
    """``path`` or ``query.<name>`` when that part holds a NUL, else None."""
    if "\x00" in scope.get("path", ""):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" not in query and "\x00" not in query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"query.{name.replace(chr(0), '')}"
    return None


def nul_path(value: Any) -> tuple[str | int, ...] | None:
    """Where the first string (or mapping key) holding a NUL sits in JSON-like ``value``
    (mapping keys, list indexes; ``()`` for ``value`` itself), or None. Walked without
    recursion, in document order; a key is named without its NULs."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            children: list[tuple[Any, tuple[str | int, ...]]] = []
            for key, child in item.items():
                name = str(key)
                if "\x00" in name:
                    return (*path, name.replace("\x00", ""))
                children.append((child, (*path, name)))
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(child, (*path, i)) for i, child in enumerate(item)]))
    return None


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def refuse_nul_in_json_body(request: Request) -> None:
    """A JSON body with a NUL in a string or a key is a 422 naming that field. Only a body that
    spells ``\\u0000`` is parsed here (JSON cannot carry a raw NUL in a string); one that
    cannot be parsed is left to the route, which answers as it does for any such body."""
    if request.method not in ("POST", "PUT", "PATCH") or not _is_json(
        request.headers.get("content-type", "")
    ):
        return
    body = await request.body()
    if b"\\u0000" not in body:
        return
    try:
        data = await request.json()
    except (ValueError, RecursionError):
        return
    path = nul_path(data)
    if path is not None:
        loc = ("body", *path)
        raise RequestValidationError([{"type": "value_error", "loc": loc, "msg": NUL_MSG}])


class RefuseNul:
    """ASGI middleware: a NUL in the path or the query string is a 422 naming where."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        field = _nul_field(scope) if scope["type"] == "http" else None
        if field is None:
            await self.app(scope, receive, send)
            return
        loc: list[Any] = field.split(".", 1)
        detail = [{"field": field, "loc": loc, "msg": NUL_MSG, "type": "value_error"}]
        response = JSONResponse({"error": f"{field}: {NUL_MSG}", "detail": detail}, status_code=422)
        await response(scope, receive, send)
