"""tutor-api: the tutor's /chat and the model registry."""

from __future__ import annotations

from fastapi import FastAPI
from tutorlab.service import ServiceSpec, create_service_app

from tutor_api.config import TutorApiSettings
from tutor_api.deps import close_resources, start_resources
from tutor_api.routes import chat, models

SPEC = ServiceSpec(
    name="tutor-api",
    title="TutorLab tutor-api",
    routers=(models.router, chat.router),
    on_startup=(start_resources,),
    on_shutdown=(close_resources,),
)


def create_app(settings: TutorApiSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or TutorApiSettings())
