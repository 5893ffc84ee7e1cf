"""eval-service: benchmark jobs, scoring and comparisons."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from tutorlab.jobs.queue import JobQueue
from tutorlab.service import ServiceSpec, create_service_app

from eval_service.config import EvalServiceSettings
from eval_service.jobs import KINDS

SPEC = ServiceSpec(
    name="eval-service", title="TutorLab eval-service", job_prefix="bench", job_kinds=KINDS
)


def create_app(
    settings: EvalServiceSettings | None = None,
    *,
    queue: JobQueue | None = None,
    http: httpx.AsyncClient | None = None,
    extras: dict[str, Any] | None = None,
) -> FastAPI:
    return create_service_app(
        SPEC, settings or EvalServiceSettings(), queue=queue, http=http, extras=extras
    )
