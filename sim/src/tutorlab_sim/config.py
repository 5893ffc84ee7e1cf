"""Simulator settings: environment variables ``TUTORLAB_SIM_<FIELD>``, changeable at run time."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

AnswerStyle = Literal["boxed", "hash", "answer_is", "mixed"]
LatencyDist = Literal["fixed", "uniform", "lognormal"]

#: fields ``PUT /sim/config`` may not change (they are fixed when the server starts)
READ_ONLY_FIELDS: frozenset[str] = frozenset({"host", "port", "dataset_mirror", "api_key"})
#: fields ``GET /sim/config`` never shows
SECRET_FIELDS: frozenset[str] = frozenset({"api_key"})


class SimConfig(BaseSettings):
    """Everything the simulator does that a test or a demo may want to tune."""

    model_config = SettingsConfigDict(
        env_prefix="TUTORLAB_SIM_", extra="ignore", populate_by_name=True
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=1, le=65535)
    dataset_mirror: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("TUTORLAB_SIM_DATASET_MIRROR", "TUTORLAB_DATASET_MIRROR"),
        description="dir with gsm8k/*.jsonl and math/*.jsonl; missing: every question is unknown",
    )
    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TUTORLAB_SIM_API_KEY", "TUTORLAB_API_KEY"),
        description="when set, PUT /sim/config and DELETE /sim/stats need "
        "'Authorization: Bearer <key>' (the services' key and semantics); chat stays open",
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="a larger request body is a 413"
    )
    seed: int = 0
    accuracy: float = Field(default=0.8, ge=0.0, le=1.0)
    answer_style: AnswerStyle = "boxed"
    tutoring_question_rate: float = Field(default=0.9, ge=0.0, le=1.0)
    tutoring_leak_rate: float = Field(default=0.1, ge=0.0, le=1.0)
    refusal_rate: float = Field(default=0.95, ge=0.0, le=1.0)
    over_refusal_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    judge_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    latency_ms: float = Field(default=0.0, ge=0.0)
    latency_dist: LatencyDist = "fixed"
    latency_jitter_ms: float = Field(default=0.0, ge=0.0)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    timeout_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    timeout_hang_s: float = Field(default=30.0, ge=0.0)
    malformed_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    rate_limit_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    retry_after_s: int = Field(default=1, ge=0)
    stream_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    fault_seed: int = 0

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    def public(self) -> dict[str, Any]:
        """The config as ``GET /sim/config`` shows it: every field but the key."""
        return self.model_dump(mode="json", exclude=set(SECRET_FIELDS))

    def api_key_value(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None


class ConfigUpdateError(ValueError):
    """A ``PUT /sim/config`` body that cannot be applied; ``errors`` is FastAPI-shaped detail."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
        self.errors = errors


def updated_config(current: SimConfig, update: Any) -> SimConfig:
    """``current`` with the fields of ``update`` replaced, validated; raises ConfigUpdateError."""
    if not isinstance(update, dict):
        raise ConfigUpdateError(
            [{"loc": ["body"], "msg": "expected a JSON object of config fields", "type": "type"}]
        )
    errors: list[dict[str, Any]] = []
    for key in update:
        if key not in SimConfig.model_fields:
            errors.append({"loc": ["body", key], "msg": "unknown config field", "type": "extra"})
        elif key in READ_ONLY_FIELDS:
            errors.append(
                {"loc": ["body", key], "msg": "fixed at start-up, cannot change", "type": "frozen"}
            )
    valid = {key: value for key, value in update.items() if key in SimConfig.model_fields}
    try:
        new = SimConfig.model_validate({**current.model_dump(), **valid})
    except ValidationError as exc:
        errors.extend(
            {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False)
        )
    if errors:
        raise ConfigUpdateError(errors)
    return new
