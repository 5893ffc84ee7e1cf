"""tutor-api request/response shapes beyond the shared contracts."""

from __future__ import annotations

from pydantic import BaseModel


class ProbeResult(BaseModel):
    name: str
    ok: bool
    reachable: bool
    model_listed: bool | None = None
    listed_models: list[str] = []
    reply: str | None = None
    latency_ms: float | None = None
    error: str | None = None
