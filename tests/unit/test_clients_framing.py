"""NDJSON and Server-Sent-Event framing of streamed bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tutorlab.clients.framing import iter_lines, ndjson_lines, sse_data


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def gather(gen: AsyncIterator[bytes]) -> list[bytes]:
    return [item async for item in gen]


@pytest.mark.parametrize("size", [1, 3, 1000])
async def test_iter_lines_handles_crlf_and_a_last_line_without_newline(size: int) -> None:
    body = b"one\r\ntwo\n\nthree"
    assert await gather(iter_lines(pieces(body, size))) == [b"one", b"two", b"", b"three"]


@pytest.mark.parametrize("size", [1, 7, 1000])
async def test_ndjson_skips_blank_lines(size: int) -> None:
    body = b'{"a":1}\n\n  \n{"b":2}\r\n{"c":3}'
    assert await gather(ndjson_lines(pieces(body, size))) == [b'{"a":1}', b'{"b":2}', b'{"c":3}']


@pytest.mark.parametrize("size", [1, 5, 1000])
async def test_sse_data_events(size: int) -> None:
    body = (
        b": keep-alive\n\n"
        b'event: message\r\ndata: {"x":1}\r\n\r\n'
        b'data:{"y":2}\n\n'
        b"data: line one\ndata: line two\nid: 7\n\n"
        b"data: [DONE]"
    )
    assert await gather(sse_data(pieces(body, size))) == [
        b'{"x":1}',
        b'{"y":2}',
        b"line one\nline two",
        b"[DONE]",
    ]
