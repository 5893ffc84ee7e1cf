"""eval-service settings (env prefix ``EVAL_SERVICE_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from tutorlab.settings import ServiceSettings


class EvalServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EVAL_SERVICE_", extra="ignore")
    service_name: ClassVar[str] = "eval-service"

    #: read benchmark datasets from the data-service when it has them (else the mirror)
    use_data_service: bool = True
    math_verify_workers: int = Field(default=2, ge=1, le=64)
    math_verify_timeout_s: float = Field(default=5.0, gt=0, le=120)
    #: how long a custom task's hub dataset may wait for the hub's first answer
    hub_timeout_s: float = Field(default=10.0, gt=0, le=120)
