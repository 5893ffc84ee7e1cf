"""Validation cards: how well each rule scorer agrees with people, measured on public labelled data.

A card is computed by ``python -m tutorlab.scoring.validation`` (``make validate-scorers``) from
public human-labelled files and shipped in the package (``cards/<scorer>.json``), so every result
can say which scorer version produced a metric and how far to trust it (its published κ).

    pairs = [("refusal", "refusal"), ("compliance", "refusal"), ...]   # (human, scorer)
    stats = agreement_stats(pairs, labels=("compliance", "refusal"))
    card = ValidationCard(scorer="refusal", ..., **stats.model_dump())
"""

from tutorlab.scoring.validation.cards import (
    AgreementStats,
    ValidationCard,
    agreement_stats,
    card_for,
    cohen_kappa,
    load_cards,
)

__all__ = [
    "AgreementStats",
    "ValidationCard",
    "agreement_stats",
    "card_for",
    "cohen_kappa",
    "load_cards",
]
