"""data-service settings (env prefix ``DATA_SERVICE_``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, model_validator
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
    #: every request body's cap (the shared setting): here room for the largest upload and its
    #: multipart envelope
    max_body_bytes: int = Field(default=65 * 1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _uploads_fit_in_a_body(self) -> DataServiceSettings:
        if self.max_upload_bytes > self.max_body_bytes:
            raise ValueError(
                f"max_upload_bytes ({self.max_upload_bytes}) is over max_body_bytes "
                f"({self.max_body_bytes}): no upload that large could arrive; raise "
                "DATA_SERVICE_MAX_BODY_BYTES too"
            )
        return self

    @property
    def resolved_hf_cache_dir(self) -> Path:
        return self.hf_cache_dir or self.data_dir / "hf-cache"
