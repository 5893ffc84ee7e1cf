"""tutor-api settings (env prefix ``TUTOR_API_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict
from tutorlab.settings import ServiceSettings


class TutorApiSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TUTOR_API_", extra="ignore")
    service_name: ClassVar[str] = "tutor-api"
