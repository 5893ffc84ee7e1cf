"""Turning TutorLab's records into what trackers accept: flat string params, numeric metrics."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``); lists of
    scalars comma-joined, other lists as JSON; None left out."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat |= flatten(value, f"{name}.")
        elif isinstance(value, list | tuple):
            if all(isinstance(v, str | int | float | bool) for v in value):
                flat[name] = ",".join(str(v) for v in value)
            else:
                flat[name] = json.dumps(value, sort_keys=True, default=str)
        elif value is not None:
            flat[name] = value
    return flat


def numeric(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The metrics a tracker can plot: finite numbers (not booleans, strings or None)."""
    return {
        key: float(value)
        for key, value in metrics.items()
        if isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    }
