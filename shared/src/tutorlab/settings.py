"""Service settings: one pydantic-settings class per service, one env prefix per service.

Every service reads ``<PREFIX>_<FIELD>`` first (``EVAL_SERVICE_PORT``), then the project-wide name
where one exists (``DATABASE_URL``, ``REDIS_URL``, ``TUTORLAB_API_KEY``, ``TUTORLAB_DATA_DIR``,
``TUTOR_API_URL`` …). Secrets are ``SecretStr`` so they never show in a repr or a log line.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tutorlab.contracts.endpoints import DEFAULT_KEY_ENVS

#: field -> project-wide environment variable read when the prefixed one is not set
GLOBAL_ENV: dict[str, str] = {
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "queue_prefix": "TUTORLAB_QUEUE_PREFIX",
    "api_key": "TUTORLAB_API_KEY",
    "data_dir": "TUTORLAB_DATA_DIR",
    "outputs_dir": "TUTORLAB_OUTPUTS_DIR",
    "dataset_mirror": "TUTORLAB_DATASET_MIRROR",
    "log_json": "TUTORLAB_LOG_JSON",
    "log_level": "TUTORLAB_LOG_LEVEL",
    "tutor_api_url": "TUTOR_API_URL",
    "eval_service_url": "EVAL_SERVICE_URL",
    "data_service_url": "DATA_SERVICE_URL",
    "trainer_service_url": "TRAINER_SERVICE_URL",
    "model_key_envs": "TUTORLAB_MODEL_KEY_ENVS",
    "max_body_bytes": "TUTORLAB_MAX_BODY_BYTES",
    # optional experiment tracking (tutorlab.tracking); the SDKs' own names where they have one
    "tracking": "TUTORLAB_TRACKING",
    "tracking_timeout_s": "TUTORLAB_TRACKING_TIMEOUT_S",
    "mlflow_tracking_uri": "MLFLOW_TRACKING_URI",
    "mlflow_experiment_name": "MLFLOW_EXPERIMENT_NAME",
    "wandb_project": "WANDB_PROJECT",
    "wandb_mode": "WANDB_MODE",
}

#: the largest request body a service reads unless told otherwise (data-service: more, for uploads)
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024

DEFAULT_PORTS: dict[str, int] = {
    "tutor-api": 8000,
    "eval-service": 8001,
    "data-service": 8002,
    "trainer-service": 8003,
    "simulator": 8090,
}


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses set ``service_name`` and ``env_prefix``."""

    model_config = SettingsConfigDict(extra="ignore", validate_default=True)

    service_name: ClassVar[str] = "service"

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    data_dir: Path = Path("var")
    outputs_dir: Path = Path("outputs")
    database_url: str | None = None
    redis_url: str = "redis://localhost:6379/0"
    #: arq queues are ``<queue_prefix>:<service>``; separate prefixes keep deployments apart
    queue_prefix: str = "tutorlab"
    api_key: SecretStr | None = None
    dataset_mirror: Path | None = None
    log_json: bool = False
    log_level: str = "INFO"
    #: the environment variables a model endpoint may name as ``api_key_env`` (comma-separated;
    #: ``PREFIX_*`` allows a prefix): a key is sent to the endpoint's URL, so only these
    model_key_envs: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_KEY_ENVS)
    )
    #: a request body over this many bytes is refused with 413 before it is read
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1024)

    tutor_api_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['tutor-api']}"
    eval_service_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['eval-service']}"
    data_service_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['data-service']}"
    trainer_service_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['trainer-service']}"

    #: where benchmark metrics and training curves are also logged (decision 0025): ``off``, or
    #: ``mlflow`` / ``wandb`` through their SDKs (the extras ``tutorlab[mlflow]``,
    #: ``tutorlab[wandb]``); their keys (``WANDB_API_KEY``, ``MLFLOW_TRACKING_TOKEN`` …) are the
    #: SDKs' to read from the environment, never a setting
    tracking: Literal["off", "mlflow", "wandb"] = "off"
    #: a tracking call still running after this long is given up on (the run goes on untracked)
    tracking_timeout_s: float = Field(default=30.0, gt=0)
    #: MLflow's tracking store (None: MLflow's default) and the experiment runs are logged in
    mlflow_tracking_uri: str | None = None
    mlflow_experiment_name: str = Field(default="tutorlab", min_length=1)
    #: the W&B project runs are logged in, and the SDK's mode (online, offline, disabled;
    #: None: the SDK's default)
    wandb_project: str = Field(default="tutorlab", min_length=1)
    wandb_mode: str | None = None

    #: arq worker knobs
    worker_max_jobs: int = Field(default=4, ge=1, le=1000)
    job_timeout_s: int = Field(default=24 * 3600, ge=1)
    #: a running job whose heartbeat is older than this is taken over by another worker
    job_stale_after_s: float = Field(default=12.0, gt=0)
    #: how often a running job's worker renews its lease (must be well under the above)
    job_heartbeat_s: float = Field(default=2.0, gt=0)
    #: how often each service's reconcile (re-enqueue jobs to take over, and jobs that never
    #: reached Redis) runs, in whole seconds
    job_reconcile_every_s: int = Field(default=5, ge=1, le=30)
    #: the file a worker touches as its loop turns, which its liveness probe reads; default:
    #: ``<temp dir>/tutorlab-worker-<queue>.alive`` (one per queue and host)
    worker_alive_file: Path | None = None
    #: the liveness probe fails once the worker's loop has not turned for this long
    worker_alive_within_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> ServiceSettings:
        if self.job_heartbeat_s * 2 > self.job_stale_after_s:
            raise ValueError(
                f"job_heartbeat_s ({self.job_heartbeat_s}) must be at most half of "
                f"job_stale_after_s ({self.job_stale_after_s}): a live worker's job would be "
                "taken over between two heartbeats"
            )
        return self

    @property
    def job_takeover_within_s(self) -> float:
        """How long after its worker dies a job is running again on another worker, at most:
        its lease expires (``job_stale_after_s`` after the last heartbeat), the next reconcile
        (``job_reconcile_every_s``) re-enqueues it, plus a second for arq to fire the cron
        (it polls every 0.5 s) and the claim (decision 0002)."""
        return self.job_stale_after_s + self.job_reconcile_every_s + 1.0

    @model_validator(mode="before")
    @classmethod
    def _global_fallbacks(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        for field, env_name in GLOBAL_ENV.items():
            if field in data or f"{prefix}{field.upper()}" in os.environ:
                continue
            if env_name in os.environ:
                data[field] = os.environ[env_name]
        if not data.get("port") and f"{prefix}PORT" not in os.environ:
            data["port"] = DEFAULT_PORTS.get(cls.service_name, 0)
        return data

    @field_validator("api_key", "mlflow_tracking_uri", "wandb_mode", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("model_key_envs", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("model_key_envs")
    @classmethod
    def _names_or_prefixes(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\*?", entry):
                raise ValueError(
                    f"{entry!r} is not a variable name, nor a prefix ending in * (like "
                    "TUTORLAB_MODEL_KEY_*)"
                )
        return value

    @field_validator("tutor_api_url", "eval_service_url", "data_service_url", "trainer_service_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @property
    def queue_name(self) -> str:
        """The arq queue this service's jobs go to."""
        return f"{self.queue_prefix}:{self.service_name}"

    @property
    def worker_alive_path(self) -> Path:
        """``worker_alive_file``, or a file in the temp directory named for the queue."""
        if self.worker_alive_file is not None:
            return self.worker_alive_file
        name = re.sub(r"[^A-Za-z0-9_.-]", "-", self.queue_name)
        return Path(tempfile.gettempdir()) / f"tutorlab-worker-{name}.alive"

    @property
    def resolved_database_url(self) -> str:
        """``database_url``, or a SQLite file under ``data_dir`` named for the service."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"

    def api_key_value(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None
