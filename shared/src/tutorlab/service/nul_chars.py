"""No NUL character in a request's path or query: no id, name or filter holds one, and
PostgreSQL refuses it in a text parameter (a 500 from every lookup it reached). 422 naming the
part, in the usual validation shape."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


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


class RefuseNul:
    """ASGI middleware: a NUL in the path or the query string is a 422 naming where."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        field = _nul_field(scope) if scope["type"] == "http" else None
        if field is None:
            await self.app(scope, receive, send)
            return
        msg = "contains a NUL character"
        loc: list[Any] = field.split(".", 1)
        detail = [{"field": field, "loc": loc, "msg": msg, "type": "value_error"}]
        response = JSONResponse({"error": f"{field}: {msg}", "detail": detail}, status_code=422)
        await response(scope, receive, send)
