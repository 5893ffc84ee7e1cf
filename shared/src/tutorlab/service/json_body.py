"""JSON bodies Python's parser cannot hold: a number past the int-string limit (4,300 digits) or
nesting past the recursion limit. FastAPI answers both with a bare 400 ("There was an error
parsing the body"); these say which field, as a 422 in the usual validation shape."""

from __future__ import annotations

import json
import sys
from typing import Any

from fastapi import Request
from starlette.exceptions import HTTPException


class _LongNumber:
    """Stands in for a number too long to convert, so its place in the body can be named."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _parse_int(text: str) -> int | _LongNumber:
    digits = len(text.lstrip("-"))
    limit = sys.get_int_max_str_digits()
    return _LongNumber(digits) if limit and digits > limit else int(text)


def _long_numbers(value: Any) -> list[tuple[str, int]]:
    """(field path, digits) of every stand-in in ``value``, walked without recursion."""
    found: list[tuple[str, int]] = []
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _LongNumber):
            found.append((".".join(path) or "body", item.digits))
        elif isinstance(item, dict):
            stack.extend((child, (*path, str(key))) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((child, (*path, str(index))) for index, child in enumerate(item))
    return sorted(found)


def _entry(field: str, msg: str, kind: str) -> dict[str, Any]:
    loc: list[str | int] = [int(p) if p.isdigit() else p for p in field.split(".")]
    return {
        "field": field,
        "loc": ["body", *loc] if field != "body" else ["body"],
        "msg": msg,
        "type": kind,
    }


def unreadable_detail(body: bytes, cause: BaseException) -> list[dict[str, Any]] | None:
    """The 422 detail for a body the JSON parser gave up on with ``cause``; None when the cause
    is something else (the 400 stands)."""
    if isinstance(cause, RecursionError):
        return [_entry("body", "JSON nested too deeply to read", "json_too_deep")]
    if not (isinstance(cause, ValueError) and "integer string conversion" in str(cause)):
        return None
    limit = sys.get_int_max_str_digits()
    try:
        located = _long_numbers(json.loads(body, parse_int=_parse_int))
    except (ValueError, RecursionError):
        located = []
    if not located:
        return [_entry("body", f"a number over the {limit}-digit limit", "number_too_long")]
    return [
        _entry(
            field,
            f"a number of {digits} digits, over the {limit}-digit limit (send it as a string)",
            "number_too_long",
        )
        for field, digits in located
    ]


async def unreadable_json(request: Request, exc: HTTPException) -> dict[str, Any] | None:
    """The 422 body for FastAPI's 400 on a JSON body it could not read, or None."""
    if exc.status_code != 400 or exc.__cause__ is None:
        return None
    try:
        body = await request.body()  # read once already, by the route: kept on the request
    except RuntimeError:
        body = b""
    detail = unreadable_detail(body, exc.__cause__)
    if detail is None:
        return None
    return {"error": "; ".join(f"{d['field']}: {d['msg']}" for d in detail), "detail": detail}
