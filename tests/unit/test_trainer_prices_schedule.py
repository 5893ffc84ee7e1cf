"""Tinker prices (the shipped table, its copy in configs/, cost arithmetic) and the
learning-rate schedule."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from pathlib import Path

import pytest
from trainer_service.base_models import BASE_MODELS
from trainer_service.prices import PriceTable, PriceTableError, UnknownPrice
from trainer_service.schedule import learning_rate_at

REPO = Path(__file__).resolve().parents[2]
PACKAGE_TABLE = REPO / "services/trainer-service/src/trainer_service/prices.yaml"

# --- prices -----------------------------------------------------------------------------------


def test_the_default_table_ships_in_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing depends on where the repo is
    table = PriceTable.default()
    assert table.origin == "trainer_service/prices.yaml"
    assert table.taken_on == dt.date(2026, 12, 7)
    price = table.price_for("Qwen/Qwen3-8B")
    assert (price.prefill, price.sample, price.train) == (0.195, 0.60, 0.44)
    assert price.effective == dt.date(2026, 7, 17)
    assert price.source == "tinker-2026-07" and not price.estimate
    assert table.price_for("qwen3:8b") == price
    assert PriceTable.load().prices == table.prices


def test_configs_prices_yaml_is_the_package_table() -> None:
    copy = REPO / "configs" / "prices.yaml"
    assert copy.read_bytes() == PACKAGE_TABLE.read_bytes(), (
        "edit services/trainer-service/src/trainer_service/prices.yaml and copy it to "
        "configs/prices.yaml"
    )
    assert PriceTable.load(copy).prices == PriceTable.default().prices


def test_every_base_model_in_the_name_table_has_a_price() -> None:
    table = PriceTable.default()
    for entry in BASE_MODELS.values():
        price = table.price_for(entry.short_name)
        assert price.model == entry.hf_id
        assert price.train > 0 and price.sample > 0 and price.prefill > 0


def test_estimates_are_labelled() -> None:
    table = PriceTable.default()
    estimated = {m for m, p in table.prices.items() if p.estimate}
    assert "Qwen/Qwen3-32B" in estimated and "Qwen/Qwen3-8B" not in estimated
    text = PACKAGE_TABLE.read_text()
    assert "estimate" in text and "transcription" in text  # the file says what it is


def test_cost_usd_is_tokens_times_price_per_million() -> None:
    price = PriceTable.default().price_for("qwen3:8b")
    assert price.cost_usd(1_000_000, 0, 0) == pytest.approx(0.195)
    assert price.cost_usd(0, 1_000_000, 0) == pytest.approx(0.60)
    assert price.cost_usd(0, 0, 1_000_000) == pytest.approx(0.44)
    # an RL step: 64 x 8 samples of ~300 tokens, ~150-token prompts, everything trained
    sampled, prefill = 64 * 8 * 300, 64 * 8 * 150
    expected = (prefill * 0.195 + sampled * 0.60 + (sampled + prefill) * 0.44) / 1e6
    assert price.cost_usd(prefill, sampled, sampled + prefill) == pytest.approx(expected)
    # cached prompt tokens are billed at 80% off
    assert price.cached_prefill == pytest.approx(0.195 * 0.2)
    assert price.cost_usd(0, 0, 0, tokens_prefill_cached=1_000_000) == pytest.approx(0.039)
    with pytest.raises(ValueError, match="tokens_sampled must be >= 0"):
        price.cost_usd(0, -1, 0)


def test_an_unpriced_model_is_an_error_not_zero() -> None:
    table = PriceTable.default()
    with pytest.raises(UnknownPrice, match=r"no price for someorg/Model-1B .* Qwen/Qwen3-8B"):
        table.price_for("someorg/Model-1B")
    with pytest.raises(UnknownPrice, match="known names"):
        table.price_for("qwen9:1b")


def test_another_table_can_be_loaded(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(
        "taken_on: 2027-01-01\n"
        "sources: {mine: {url: https://example.org, effective: 2027-01-01, estimate: true}}\n"
        "models: {Qwen/Qwen3-8B: {prefill: 1, sample: 2, train: 3, source: mine}}\n"
    )
    price = PriceTable.load(path).price_for("qwen3:8b")
    assert price.cost_usd(1_000_000, 1_000_000, 1_000_000) == pytest.approx(6.0)
    assert price.estimate and price.cached_prefill == 1.0  # no discount unless the table says


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("models: [", "not valid YAML"),
        (
            "taken_on: 2027-01-01\nsources: {}\n"
            "models: {A/B: {prefill: 1, sample: 2, train: 3, source: nowhere}}\n",
            "models.A/B.source: 'nowhere' is not one of the table's sources",
        ),
        (
            "taken_on: 2027-01-01\nsources: {s: {url: u, effective: 2027-01-01}}\n"
            "models: {A/B: {prefill: -1, sample: 2, train: 3, source: s}}\n",
            "models.A/B.prefill",
        ),
        ("sources: {}\nmodels: {}\n", "taken_on"),
    ],
)
def test_a_broken_table_names_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PriceTableError) as caught:
        PriceTable.load(path)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)
    with pytest.raises(PriceTableError, match="cannot read"):
        PriceTable.load(tmp_path / "missing.yaml")


# --- learning-rate schedule -------------------------------------------------------------------


def test_without_warmup_the_schedules_are_the_cookbooks() -> None:
    total, base = 10, 1e-4
    for step in range(total):
        assert learning_rate_at(step, total, base, "constant") == base
        assert learning_rate_at(step, total, base, "linear") == pytest.approx(
            base * (1 - step / total)
        )
        assert learning_rate_at(step, total, base, "cosine") == pytest.approx(
            base * 0.5 * (1 + math.cos(math.pi * step / total))
        )
    assert learning_rate_at(0, total, base, "linear") == base
    assert learning_rate_at(total - 1, total, base, "linear") == pytest.approx(base / total)


def test_warmup_ramps_linearly_then_decays_from_the_peak() -> None:
    total, warmup, base = 20, 4, 2e-4
    ramp = [learning_rate_at(s, total, base, "cosine", warmup) for s in range(warmup)]
    assert ramp == pytest.approx([base * 0.25, base * 0.5, base * 0.75, base])
    after = [learning_rate_at(s, total, base, "cosine", warmup) for s in range(warmup, total)]
    assert after[0] == pytest.approx(base)
    assert all(a >= b for a, b in itertools.pairwise(after))
    assert after[-1] < base * 0.01
    linear = [learning_rate_at(s, total, base, "linear", warmup) for s in range(warmup, total)]
    assert linear == pytest.approx([base * (1 - k / 16) for k in range(16)])
    constant = [learning_rate_at(s, total, base, "constant", warmup) for s in range(total)]
    assert constant[:warmup] == ramp and constant[warmup:] == [base] * (total - warmup)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 0, 1e-4, "linear", 0), "total_steps must be at least 1"),
        ((10, 10, 1e-4, "linear", 0), r"step must be in \[0, 10\)"),
        ((-1, 10, 1e-4, "linear", 0), "step must be in"),
        ((0, 10, 1e-4, "linear", 10), r"warmup_steps \(10\) must be less than"),
        ((0, 10, 1e-4, "linear", -1), "warmup_steps must be >= 0"),
        ((0, 10, 1e-4, "step", 0), "schedule must be one of constant, linear, cosine"),
        ((0, 10, -1.0, "linear", 0), "base_lr must be >= 0"),
    ],
)
def test_impossible_schedules_are_refused(args: tuple, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        learning_rate_at(*args)
