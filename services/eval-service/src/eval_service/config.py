"""eval-service settings (env prefix ``EVAL_SERVICE_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from tutorlab.settings import ServiceSettings

#: the defaults of ``EVAL_SERVICE_HUB_MAX_ROWS`` and ``EVAL_SERVICE_HUB_MAX_BYTES``: ten times the
#: largest evaluation set we know of (MMLU's test split, 14,042 rows) would still fit in memory,
#: and 50,000 items is already hours of a model's time
HUB_MAX_ROWS = 50_000
HUB_MAX_BYTES = 256 * 1024 * 1024


class EvalServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EVAL_SERVICE_", extra="ignore")
    service_name: ClassVar[str] = "eval-service"

    #: read benchmark datasets from the data-service when it has them (else the mirror)
    use_data_service: bool = True
    math_verify_workers: int = Field(default=2, ge=1, le=64)
    math_verify_timeout_s: float = Field(default=5.0, gt=0, le=120)
    #: how long a custom task's hub dataset may wait for the hub's first answer
    hub_timeout_s: float = Field(default=10.0, gt=0, le=120)
    #: the most rows a custom task's hub dataset split may bring in (422 naming dataset.split)
    hub_max_rows: int = Field(default=HUB_MAX_ROWS, ge=1)
    #: the most bytes (its Arrow data, as ``datasets`` prepared it) such a split may hold
    hub_max_bytes: int = Field(default=HUB_MAX_BYTES, ge=1)
