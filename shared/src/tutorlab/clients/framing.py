"""Split a streamed HTTP body into NDJSON lines or Server-Sent-Event data payloads (bytes)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable


async def iter_lines(chunks: AsyncIterable[bytes]) -> AsyncGenerator[bytes, None]:
    """Every line of the body, blank ones included, without its ``\\n`` / ``\\r\\n``."""
    pending = b""
    async for chunk in chunks:
        if pending:
            chunk = pending + chunk
        lines = chunk.split(b"\n")
        pending = lines.pop()
        for line in lines:
            yield line[:-1] if line.endswith(b"\r") else line
    if pending:
        yield pending[:-1] if pending.endswith(b"\r") else pending


async def ndjson_lines(chunks: AsyncIterable[bytes]) -> AsyncGenerator[bytes, None]:
    """The non-blank lines of a newline-delimited JSON body."""
    async for line in iter_lines(chunks):
        if line and not line.isspace():
            yield line


async def sse_data(chunks: AsyncIterable[bytes]) -> AsyncGenerator[bytes, None]:
    """The ``data`` of each Server-Sent Event (multi-line data joined by ``\\n``).

    Comments and the ``event``/``id``/``retry`` fields are ignored; a last event not followed
    by a blank line is still delivered.
    """
    data: list[bytes] = []
    async for line in iter_lines(chunks):
        if not line:
            if data:
                yield data[0] if len(data) == 1 else b"\n".join(data)
                data = []
        elif line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
    if data:
        yield b"\n".join(data)
