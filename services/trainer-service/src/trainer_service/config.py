"""trainer-service settings (env prefix ``TRAINER_SERVICE_``).

``TINKER_API_KEY`` is read from the environment or from a ``.env`` file in the working directory
(never stored, returned or logged); the job that needs it fails at once, naming it, when it is
missing or malformed.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict
from tutorlab.contracts.endpoints import TINKER_DEFAULT_BASE_URL
from tutorlab.settings import ServiceSettings


class TrainerServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRAINER_SERVICE_", extra="ignore", env_file=".env", env_file_encoding="utf-8"
    )
    service_name: ClassVar[str] = "trainer-service"

    #: the Tinker API key (``TINKER_API_KEY``); only a ``backend: tinker`` run needs it
    tinker_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TINKER_API_KEY", "TRAINER_SERVICE_TINKER_API_KEY"),
    )
    #: the Tinker service the SDK talks to (None: the SDK's default)
    tinker_base_url: str | None = None
    #: Tinker's OpenAI-compatible API, where a trained sampler is served: the base URL of the
    #: ``tinker`` endpoint registered in tutor-api (tests and the demo point it at the simulator)
    tinker_openai_base_url: str = TINKER_DEFAULT_BASE_URL
    #: where a ``backend: simulated`` run's sampler is served (the simulator's OpenAI-compatible
    #: API, ``…/v1``); None: ``tinker_openai_base_url``
    sim_sampler_base_url: str | None = None
    #: how long the SDK's first (blocking) connection may take before the job fails
    tinker_connect_timeout_s: float = Field(default=60.0, gt=0)
    #: where a chat template's tokenizer comes from when a config names none: a directory with
    #: Qwen3's tokenizer files (offline machines), else the base model's Hugging Face id
    tokenizer_dir: Path | None = None
    #: how long a finished training waits for its automatic benchmark to end before it writes
    #: the experiment README without the benchmark's numbers
    benchmark_wait_s: float = Field(default=6 * 3600.0, ge=0)
    #: the simulated backend's per-request latencies (seconds), for the demo and the bench
    sim_forward_backward_s: float = Field(default=0.0, ge=0)
    sim_optim_step_s: float = Field(default=0.0, ge=0)
    sim_sample_s: float = Field(default=0.0, ge=0)

    @field_validator("tinker_api_key", mode="before")
    @classmethod
    def _empty_tinker_key_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    def sampler_base_url(self, backend: str) -> str:
        """The OpenAI-compatible base URL that serves a trained sampler of ``backend``."""
        if backend == "simulated" and self.sim_sampler_base_url:
            return self.sim_sampler_base_url
        return self.tinker_openai_base_url

    @property
    def experiments_dir(self) -> Path:
        return self.data_dir / "experiments"

    @property
    def simulated_state_dir(self) -> Path:
        return self.data_dir / "simulated-backend"
