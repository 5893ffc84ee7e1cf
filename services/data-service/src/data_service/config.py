"""data-service settings (env prefix ``DATA_SERVICE_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict
from tutorlab.settings import ServiceSettings


class DataServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DATA_SERVICE_", extra="ignore")
    service_name: ClassVar[str] = "data-service"
