"""Validate a training JSONL file line by line, reporting every problem with its line number."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tutorlab.curriculum.taxonomy import GRADE_MAX, GRADE_MIN
from tutorlab.curriculum.training_format import MODES, Example, example_text, parse_example

TokenEstimator = Callable[[str], int]
#: called with (line number, the decoded object with ``grade`` as an int, the parsed example)
ExampleSink = Callable[[int, dict[str, Any], Example], None]

#: pydantic error types -> our problem codes (custom codes from training_format pass through)
_CODE_BY_TYPE = {
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
    "greater_than_equal": "out_of_range",
    "less_than_equal": "out_of_range",
}


class Problem(BaseModel):
    line: int  # 1-based
    field: str | None
    code: str
    message: str
    duplicate_of: int | None = None  # for code "duplicate": the earlier line


class ValidationReport(BaseModel):
    ok: bool
    n_lines: int
    n_valid: int
    problems: list[Problem]
    counts_by_mode: dict[str, int]  # valid examples per mode ("unspecified" when none)
    counts_by_format: dict[str, int]  # valid examples per form: "prompt_response" | "messages"

    def problems_on(self, line: int) -> list[Problem]:
        return [p for p in self.problems if p.line == line]


def estimate_tokens(text: str) -> int:
    """Default token estimate: one token per four characters, rounded up."""
    return math.ceil(len(text) / 4)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


#: far deeper than a training example needs (``messages`` is 3 levels); JSON nested much deeper
#: exhausts the recursion of the parser or of what reads the object after it
MAX_JSON_DEPTH = 64


def _depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (a scalar: 0), without recursing."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth <= MAX_JSON_DEPTH:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, depth) for child in children)
    return deepest


def _too_deep(line: int) -> Problem:
    return Problem(
        line=line,
        field=None,
        code="too_deep",
        message=f"JSON nested more than {MAX_JSON_DEPTH} levels deep",
    )


def _field_path(loc: tuple[int | str, ...]) -> str | None:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None


def _problems_from(exc: ValidationError, line: int) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        ctx = error.get("ctx") or {}
        field = ctx.get("field") if isinstance(ctx.get("field"), str) else _field_path(loc)
        if kind in _CODE_BY_TYPE:
            code = _CODE_BY_TYPE[kind]
            if code == "out_of_range" and loc == ("grade",):
                code = "grade_out_of_range"
        elif kind == "literal_error":
            code = "unknown_mode" if loc == ("mode",) else "invalid_value"
            if len(loc) == 3 and loc[0] == "messages" and loc[2] == "role":
                code = "invalid_role"
        elif kind == "grade_type":
            code = "wrong_type"  # a grade string that is not digits; its message says so
        elif kind.endswith("_type") or kind == "model_attributes_type":
            code = "wrong_type"
        elif kind.startswith(("empty_", "unknown_", "invalid_", "mode_")):
            code = kind  # our own codes, raised in training_format
        else:
            code = "invalid_value"
        message = error["msg"]
        if code == "grade_out_of_range":
            message = f"grade {error.get('input')!r} is outside {GRADE_MIN}..{GRADE_MAX}"
        elif code == "unknown_mode" and loc == ("mode",):
            message = f"mode {error.get('input')!r} is not one of {', '.join(MODES)}"
        elif code == "wrong_type" and kind != "grade_type":
            message = f"{message} (got {type(error.get('input')).__name__})"
        problems.append(Problem(line=line, field=field, code=code, message=message))
    return problems


Source = Iterable[str] | str | os.PathLike[str] | bytes


def _iter_lines(source: Source) -> Iterator[tuple[str | None, str]]:
    """(text or None when undecodable, error message) per physical line."""
    if isinstance(source, str | os.PathLike | bytes):
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        raw_lines = data.split(b"\n")
        if raw_lines and raw_lines[-1] == b"":
            raw_lines.pop()  # the newline that ends the last line opens no new line
        for raw in raw_lines:
            try:
                yield raw.decode("utf-8").removesuffix("\r"), ""
            except UnicodeDecodeError as exc:
                yield None, f"not valid UTF-8 ({exc.reason} at byte {exc.start})"
        return
    for line in source:
        yield line.removesuffix("\n").removesuffix("\r"), ""


def validate_jsonl(
    lines: Source,
    *,
    max_tokens: int = 4096,
    token_estimator: TokenEstimator | None = None,
    on_example: ExampleSink | None = None,
) -> ValidationReport:
    """Check every line of a training JSONL and report every problem found, never stopping at
    the first. ``lines``: a path (``str`` or ``Path``), the file's bytes, or an iterable of
    lines. ``on_example`` receives every valid line as it is parsed, so a caller that keeps the
    examples does not parse the file twice.

    Reported per line: blank line, undecodable UTF-8, bad JSON, not an object, missing / unknown
    / mistyped fields (a grade may be a digit string, ``"6"``), empty prompt or response, unknown
    mode, grade out of 1..12, invalid
    messages, an example longer than ``max_tokens`` (``token_estimator``, default chars/4), and
    exact duplicates (the later line, naming the earlier one).
    """
    estimator = token_estimator or estimate_tokens
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    modes: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    n_lines = n_valid = 0
    for n_lines, (text, decode_error) in enumerate(_iter_lines(lines), start=1):
        checked = _check_line(n_lines, text, decode_error, seen, max_tokens, estimator)
        if isinstance(checked, _Valid):
            modes[checked.example.mode or "unspecified"] += 1
            formats["messages" if "messages" in checked.data else "prompt_response"] += 1
            n_valid += 1
            if on_example is not None:
                on_example(n_lines, checked.data, checked.example)
        else:
            problems.extend(checked)
    return ValidationReport(
        ok=not problems,
        n_lines=n_lines,
        n_valid=n_valid,
        problems=problems,
        counts_by_mode=dict(sorted(modes.items())),
        counts_by_format=dict(sorted(formats.items())),
    )


@dataclass(frozen=True, slots=True)
class _Valid:
    data: dict[str, Any]
    example: Example


def _check_line(
    line: int,
    text: str | None,
    decode_error: str,
    seen: dict[str, int],
    max_tokens: int,
    estimator: TokenEstimator,
) -> list[Problem] | _Valid:
    """The line's problems, or the valid example (and its object, grade as an int)."""
    if text is None:
        return [Problem(line=line, field=None, code="invalid_encoding", message=decode_error)]
    if not text.strip():
        return [Problem(line=line, field=None, code="blank_line", message="blank line")]
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        return [_too_deep(line)]
    except (json.JSONDecodeError, ValueError) as exc:
        return [Problem(line=line, field=None, code="invalid_json", message=f"invalid JSON: {exc}")]
    if _depth(data) > MAX_JSON_DEPTH:
        return [_too_deep(line)]
    if not isinstance(data, dict):
        return [
            Problem(
                line=line,
                field=None,
                code="not_object",
                message=f"expected a JSON object, got {type(data).__name__}",
            )
        ]
    found: list[Problem] = []
    example = None
    try:
        example = parse_example(data)
    except ValidationError as exc:
        found.extend(_problems_from(exc, line))

    tokens = estimator(example_text(data))
    if tokens > max_tokens:
        found.append(
            Problem(
                line=line,
                field=None,
                code="too_long",
                message=f"about {tokens} tokens, over the limit of {max_tokens}",
            )
        )
    if example is not None:  # "grade": "6" and "grade": 6 are the same example
        data = {**data, "grade": example.grade}
    key = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    first = seen.setdefault(key, line)
    if first != line:
        found.append(
            Problem(
                line=line,
                field=None,
                code="duplicate",
                message=f"exact duplicate of line {first}",
                duplicate_of=first,
            )
        )
    if found or example is None:
        return found
    return _Valid(data, example)
