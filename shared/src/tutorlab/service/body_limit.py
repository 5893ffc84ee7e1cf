"""A cap on request bodies, for every route of a service: 413 in the usual error shape.

A body that declares a ``Content-Length`` over the cap is refused before the app runs; one sent
without it (chunked) is cut off as soon as the bytes read pass the cap. FastAPI's own
``max_body_size`` answers plain text on some of these paths, hence this middleware.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised while a route reads a body past the cap; the error handlers answer it (413)."""

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(413, body_limit_message(limit, setting))


def body_limit_message(limit: int, setting: str) -> str:
    return f"body: larger than the {limit}-byte limit ({setting})"


class BodyLimit:
    """ASGI middleware: request bodies over ``max_bytes`` get 413 naming ``setting``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, setting: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.setting = setting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            message = body_limit_message(self.max_bytes, self.setting)
            await JSONResponse({"error": message}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes, self.setting)
            return message

        await self.app(scope, bounded, send)
