"""``--param KEY=VALUE``: sampling parameters, checked by name before anything is sent."""

from __future__ import annotations

import difflib
import json
from typing import Any

import typer

from tutorlab.cli.http import fail
from tutorlab.contracts.endpoints import ModelParams

#: the sampling parameters every endpoint kind understands
KNOWN_PARAMS: tuple[str, ...] = tuple(ModelParams.model_fields)

ParamOption = typer.Option(
    [],
    "--param",
    help=f"sampling parameter KEY=VALUE (repeatable): {', '.join(KNOWN_PARAMS)}",
    show_default=False,
)
ExtraParamOption = typer.Option(
    [],
    "--extra-param",
    help="a backend's own sampling option KEY=VALUE, passed through unchecked (repeatable; "
    "e.g. repeat_penalty=1.1 for Ollama, presence_penalty=0.5 for OpenAI)",
    show_default=False,
)


def _pairs(pairs: list[str], flag: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"{flag} takes KEY=VALUE, got {pair!r}")
        try:
            values[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            values[key.strip()] = value
    return values


def parse_params(pairs: list[str], extra: list[str] | None = None) -> dict[str, Any]:
    """``--param`` pairs (known names only: a typo is refused, naming the known ones) and
    ``--extra-param`` pairs (a backend's own options, unchecked). Values are JSON where they
    parse as JSON (``0.2``, ``true``, ``["\\n"]``), else strings."""
    params = _pairs(pairs, "--param")
    for key in params:
        if key not in KNOWN_PARAMS:
            close = difflib.get_close_matches(key, KNOWN_PARAMS, n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            fail(
                f"--param: unknown sampling parameter {key!r}{guess}; known: "
                f"{', '.join(KNOWN_PARAMS)}. A backend's own option goes through "
                f"--extra-param {key}=VALUE"
            )
    for key, value in _pairs(extra or [], "--extra-param").items():
        if key in KNOWN_PARAMS:
            fail(f"--extra-param: {key!r} is a known sampling parameter; pass it as --param")
        params[key] = value
    return params
