"""Model endpoint contract: what the registry stores and every client is built from.

Secrets are never part of an endpoint: ``api_key_env`` names the environment variable that
holds the key, and the key is read from the environment only when a request is made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
TINKER_DEFAULT_BASE_URL = "https://tinker.thinkingmachines.dev/services/tinker-prod/oai/api/v1"
TINKER_DEFAULT_KEY_ENV = "TINKER_API_KEY"
#: the variables an endpoint may name as ``api_key_env`` unless the operator says otherwise; an
#: entry ending in ``*`` allows every name with that prefix
DEFAULT_KEY_ENVS: tuple[str, ...] = ("TINKER_API_KEY", "OPENAI_API_KEY", "TUTORLAB_MODEL_KEY_*")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: a request's response-cache round (``tutorlab.cache``): bump it to ask the model again instead
#: of reusing cached replies. Not ``epochs`` (samples per item) nor a training epoch. A field of
#: this type takes ``validation_alias=CACHE_EPOCH_NAMES``: requests and stored jobs that still
#: say ``epoch``, its earlier name, are read as before
CacheEpoch = Annotated[int, Field(ge=0)]
CACHE_EPOCH_NAMES = AliasChoices("cache_epoch", "epoch")


class KeyEnvNotAllowed(ValueError):
    """An endpoint names a variable outside the operator's allow-list: its value would be sent
    to whatever ``base_url`` the endpoint has."""

    field = "api_key_env"


def key_env_allowed(name: str, allowed: Sequence[str]) -> bool:
    """Whether ``name`` is one of ``allowed`` (an entry ending in ``*`` is a prefix)."""
    return any(
        name.startswith(entry[:-1]) if entry.endswith("*") else name == entry for entry in allowed
    )


def check_key_env(name: str | None, allowed: Sequence[str]) -> None:
    """Raise :class:`KeyEnvNotAllowed` (naming ``api_key_env``) unless ``name`` is unset or
    allowed. Every service that accepts an endpoint checks it with its ``model_key_envs``."""
    if name is not None and not key_env_allowed(name, allowed):
        raise KeyEnvNotAllowed(
            f"api_key_env: {name!r} is not an allowed key variable (allowed: "
            f"{', '.join(allowed) or 'none'}; the operator sets TUTORLAB_MODEL_KEY_ENVS)"
        )


class EndpointKind(StrEnum):
    ollama = "ollama"
    openai = "openai"
    tinker = "tinker"


class ModelParams(BaseModel):
    """Sampling parameters. Unknown keys are kept and passed through to the backend."""

    model_config = ConfigDict(extra="allow")

    temperature: float | None = Field(default=None, ge=0.0, le=5.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1, le=262_144)
    seed: int | None = None
    num_ctx: int | None = Field(default=None, ge=256, le=1_048_576)
    stop: list[str] | None = None
    think: bool | None = None

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}

    def merged(self, override: ModelParams | dict[str, Any] | None) -> ModelParams:
        """These params with ``override``'s explicitly set values on top."""
        if override is None:
            return self
        extra = (
            override.model_dump(exclude_unset=True)
            if isinstance(override, ModelParams)
            else dict(override)
        )
        return ModelParams.model_validate({**self.model_dump(exclude_unset=True), **extra})


def _check_http_url(value: str) -> str:
    value = value.strip()
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


def _check_env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(
            "must be the NAME of an environment variable (letters, digits, _), never the key itself"
        )
    return value


class ModelEndpointBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EndpointKind
    base_url: str | None = Field(
        default=None,
        description="Ollama: http://host:11434; openai: what the OpenAI SDK takes (…/v1); "
        "tinker: defaults to Tinker's OpenAI-compatible API",
    )
    model: str = Field(min_length=1, max_length=512)
    params: ModelParams = Field(default_factory=ModelParams)
    max_concurrency: int = Field(default=8, ge=1, le=1024)
    api_key_env: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    _url = field_validator("base_url")(lambda v: None if v is None else _check_http_url(v))
    _env = field_validator("api_key_env")(_check_env_name)


class ModelEndpointCreate(ModelEndpointBase):
    name: str = Field(pattern=NAME_PATTERN)

    @model_validator(mode="after")
    def _defaults_by_kind(self) -> ModelEndpointCreate:
        if self.kind is EndpointKind.tinker:
            if self.base_url is None:
                self.base_url = TINKER_DEFAULT_BASE_URL
            if self.api_key_env is None:
                self.api_key_env = TINKER_DEFAULT_KEY_ENV
            if not self.model.startswith("tinker://"):
                raise ValueError("model: a tinker endpoint's model is a tinker://… sampler path")
        if self.base_url is None:
            raise ValueError(f"base_url: required for kind {self.kind.value!r}")
        return self


class ModelEndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    model: str | None = Field(default=None, min_length=1, max_length=512)
    params: ModelParams | None = None
    max_concurrency: int | None = Field(default=None, ge=1, le=1024)
    api_key_env: str | None = None
    metadata: dict[str, Any] | None = None

    _url = field_validator("base_url")(lambda v: None if v is None else _check_http_url(v))
    _env = field_validator("api_key_env")(_check_env_name)


class ModelEndpoint(ModelEndpointBase):
    """A registered endpoint as the registry returns it (and as clients are built from)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    base_url: str
    active: bool = False
