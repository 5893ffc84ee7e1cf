"""What a run costs: tokens prefilled, sampled and trained x Tinker's per-model price.

The default table ships inside this package (``trainer_service/prices.yaml``, read through
``importlib.resources``), so the service never depends on where the repository is checked out;
``configs/prices.yaml`` at the repo root is a copy for people to read (a test keeps them equal).
Every price records the source it was transcribed from and whether it is an estimate, so a
cost shown to a team can say how sure it is.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trainer_service.base_models import UnknownBaseModel, resolve_base_model

TOKENS_PER_MILLION = 1_000_000
DEFAULT_TABLE = "prices.yaml"


class PriceTableError(ValueError):
    """A price table file that cannot be read; the message names the file and the field."""


class UnknownPrice(LookupError):
    """No price for a base model; the message lists the models the table prices."""


class PriceSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    effective: dt.date
    estimate: bool = False


class ModelPrice(BaseModel):
    """USD per million tokens for one base model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    prefill: float = Field(ge=0)
    sample: float = Field(ge=0)
    train: float = Field(ge=0)
    #: share taken off ``prefill`` for prompt tokens served from Tinker's prefix cache
    cached_prefill_discount: float = Field(default=0.0, ge=0, le=1)
    source: str
    effective: dt.date
    estimate: bool
    note: str = ""

    @property
    def cached_prefill(self) -> float:
        return self.prefill * (1.0 - self.cached_prefill_discount)

    def cost_usd(
        self,
        tokens_prefill: int,
        tokens_sampled: int,
        tokens_trained: int,
        *,
        tokens_prefill_cached: int = 0,
    ) -> float:
        """USD for these token counts. ``tokens_prefill`` are prompt tokens billed at the full
        prefill price; ``tokens_prefill_cached`` those the server reported as cache hits."""
        counts = {
            "tokens_prefill": tokens_prefill,
            "tokens_sampled": tokens_sampled,
            "tokens_trained": tokens_trained,
            "tokens_prefill_cached": tokens_prefill_cached,
        }
        for name, count in counts.items():
            if count < 0:
                raise ValueError(f"{name} must be >= 0, got {count}")
        return (
            tokens_prefill * self.prefill
            + tokens_prefill_cached * self.cached_prefill
            + tokens_sampled * self.sample
            + tokens_trained * self.train
        ) / TOKENS_PER_MILLION


class _ModelRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prefill: float = Field(ge=0)
    sample: float = Field(ge=0)
    train: float = Field(ge=0)
    source: str
    note: str = ""


class _TableFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = "USD"
    unit: str = "per million tokens"
    taken_on: dt.date
    cached_prefill_discount: float = Field(default=0.0, ge=0, le=1)
    sources: dict[str, PriceSource]
    models: dict[str, _ModelRow] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_sources(self) -> _TableFile:
        for model, row in self.models.items():
            if row.source not in self.sources:
                raise ValueError(
                    f"models.{model}.source: {row.source!r} is not one of the table's sources "
                    f"({', '.join(sorted(self.sources))})"
                )
        if self.currency != "USD" or self.unit != "per million tokens":
            raise ValueError("currency/unit: the trainer reads USD per million tokens only")
        return self


class PriceTable:
    """Per-model prices, looked up by Hugging Face id or by a short name like ``qwen3:8b``."""

    def __init__(
        self, prices: dict[str, ModelPrice], *, taken_on: dt.date, origin: str = "<memory>"
    ) -> None:
        self.prices = prices
        self.taken_on = taken_on
        self.origin = origin

    @classmethod
    def from_text(cls, text: str, *, origin: str = "<text>") -> PriceTable:
        try:
            raw: Any = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PriceTableError(f"{origin}: not valid YAML: {exc}") from exc
        try:
            table = _TableFile.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'table'}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            raise PriceTableError(f"{origin}: {problems}") from exc
        prices = {
            model: ModelPrice(
                model=model,
                prefill=row.prefill,
                sample=row.sample,
                train=row.train,
                cached_prefill_discount=table.cached_prefill_discount,
                source=row.source,
                effective=table.sources[row.source].effective,
                estimate=table.sources[row.source].estimate,
                note=row.note,
            )
            for model, row in table.models.items()
        }
        return cls(prices, taken_on=table.taken_on, origin=origin)

    @classmethod
    def load(cls, path: str | Path | None = None) -> PriceTable:
        """The table in ``path``; with None, the one shipped in this package."""
        if path is None:
            return cls.default()
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise PriceTableError(f"{file}: cannot read the price table ({exc.strerror})") from exc
        return cls.from_text(text, origin=str(file))

    @classmethod
    def default(cls) -> PriceTable:
        """The table shipped in the package (``trainer_service/prices.yaml``)."""
        text = resources.files("trainer_service").joinpath(DEFAULT_TABLE).read_text("utf-8")
        return cls.from_text(text, origin=f"trainer_service/{DEFAULT_TABLE}")

    def models(self) -> list[str]:
        return sorted(self.prices)

    def price_for(self, base_model: str) -> ModelPrice:
        """The price of ``base_model`` (a Hugging Face id or a name from the base-model table).

        Raises :class:`UnknownPrice` listing the priced models when there is none: a run must
        not silently cost zero.
        """
        try:
            hf_id = resolve_base_model(base_model)
        except UnknownBaseModel as exc:
            raise UnknownPrice(str(exc)) from exc
        price = self.prices.get(hf_id)
        if price is None:
            raise UnknownPrice(
                f"no price for {hf_id} in {self.origin}; priced models: {', '.join(self.models())}"
            )
        return price
