"""trainer-service settings (env prefix ``TRAINER_SERVICE_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict
from tutorlab.settings import ServiceSettings


class TrainerServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TRAINER_SERVICE_", extra="ignore")
    service_name: ClassVar[str] = "trainer-service"
