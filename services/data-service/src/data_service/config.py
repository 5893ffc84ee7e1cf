"""data-service settings (env prefix ``DATA_SERVICE_``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from tutorlab.settings import ServiceSettings


class DataServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DATA_SERVICE_", extra="ignore")
    service_name: ClassVar[str] = "data-service"

    #: where ``datasets`` keeps its cache (default ``<data_dir>/hf-cache``)
    hf_cache_dir: Path | None = None
    #: seconds to wait for the Hugging Face hub before a hub download fails
    hub_timeout_s: float = Field(default=10.0, gt=0)
    #: the largest training file ``POST /training-sets/validate`` accepts in a request body
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)

    @property
    def resolved_hf_cache_dir(self) -> Path:
        return self.hf_cache_dir or self.data_dir / "hf-cache"
