"""tutor-api settings (env prefix ``TUTOR_API_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from tutorlab.clients import RetryPolicy
from tutorlab.settings import ServiceSettings


class TutorApiSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TUTOR_API_", extra="ignore")
    service_name: ClassVar[str] = "tutor-api"

    #: retries of a model endpoint call (connection errors, 408, 429, 5xx), per request
    model_max_attempts: int = Field(default=4, ge=1, le=20)
    #: first backoff; it doubles per retry, with full jitter
    model_retry_base_delay_s: float = Field(default=0.5, ge=0.0, le=60.0)
    #: one attempt, end to end; and all attempts and waits together
    model_attempt_timeout_s: float = Field(default=120.0, gt=0.0)
    model_deadline_s: float = Field(default=600.0, gt=0.0)

    def retry_policy(self) -> RetryPolicy:
        """The retry policy of every model client this service builds."""
        return RetryPolicy(
            max_attempts=self.model_max_attempts,
            base_delay_s=self.model_retry_base_delay_s,
            attempt_timeout_s=self.model_attempt_timeout_s,
            deadline_s=self.model_deadline_s,
        )
