"""Job ``probe_model``: fetch an endpoint from the registry (REST) and time one short chat."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from tutorlab.clients import build_client
from tutorlab.contracts.chat import ChatMessage
from tutorlab.contracts.endpoints import ModelParams
from tutorlab.jobs.runtime import JobContext
from tutorlab.registry_client import RegistryClient


class ProbeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, description="registered model name")
    prompt: str = "What is 2 + 3? Answer with the number only."


async def probe_model(ctx: JobContext) -> dict[str, Any]:
    params: ProbeParams = ctx.params
    registry: RegistryClient = ctx.resources["registry"]
    endpoint = await registry.get_model(params.model)
    await ctx.progress(0, 1)
    client = build_client(endpoint)
    try:
        result = await client.chat(
            [ChatMessage(role="user", content=params.prompt)], ModelParams(max_tokens=64)
        )
    finally:
        await client.aclose()
    await ctx.progress(1, 1)
    return {
        "model": params.model,
        "reply": result.text,
        "latency_ms": round(result.latency_ms, 2),
        "attempts": result.attempts,
        "usage": result.usage.model_dump(),
    }
