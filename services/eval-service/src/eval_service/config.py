"""eval-service settings (env prefix ``EVAL_SERVICE_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict
from tutorlab.settings import ServiceSettings


class EvalServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EVAL_SERVICE_", extra="ignore")
    service_name: ClassVar[str] = "eval-service"
