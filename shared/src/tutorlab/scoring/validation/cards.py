"""The card format, Cohen's κ and the confusion matrix, and the cards shipped in the package."""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib import resources

from pydantic import BaseModel, Field

__all__ = [
    "AgreementStats",
    "ValidationCard",
    "agreement_stats",
    "card_for",
    "cohen_kappa",
    "confusion_text",
    "load_cards",
    "summary_text",
]


class AgreementStats(BaseModel):
    """Agreement of a scorer with human labels on ``n`` items."""

    n: int
    labels: list[str]
    agreement: float = Field(description="share of items where the scorer's label is the human one")
    kappa: float = Field(description="Cohen's kappa between the human and the scorer labels")
    confusion: dict[str, dict[str, int]] = Field(description="human label -> scorer label -> count")


class ValidationCard(AgreementStats):
    """What a scorer was validated on and how well it agreed (``docs/scorers.md``)."""

    scorer: str = Field(description="the metric or scorer the card is about, e.g. 'refusal'")
    metric: str = Field(
        default="",
        description="the metric (a rule card's name) a card measures when its scorer scores "
        "several, e.g. a judge rubric's card for 'no_answer_reveal'",
    )
    scorer_version: str
    data: str = Field(description="the labelled data and its provenance (repository, commit)")
    split: str = Field(description="which part: 'development' (tuned on) or 'held-out'")
    computed_at: str = Field(description="ISO date the numbers were computed")
    notes: str = ""
    confusions: list[str] = Field(
        default_factory=list, description="typical disagreements, with short examples"
    )
    baseline: str = Field(
        default="", description="the simple rule the scorer must beat on the same data, if any"
    )
    baseline_kappa: float | None = Field(
        default=None, description="Cohen's kappa of that baseline with the same human labels"
    )


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float:
    """Cohen's κ of (rater A, rater B) label pairs; 1.0 when both use one label throughout."""
    n = len(pairs)
    if n == 0:
        raise ValueError("no pairs to compute kappa on")
    observed = sum(a == b for a, b in pairs) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[label] * second[label] for label in first) / (n * n)
    if expected >= 1.0:
        return 1.0
    return (observed - expected) / (1.0 - expected)


def agreement_stats(
    pairs: Sequence[tuple[str, str]], labels: Iterable[str] | None = None
) -> AgreementStats:
    """Agreement, κ and the confusion matrix of (human, scorer) label pairs."""
    names = list(labels) if labels is not None else sorted({x for pair in pairs for x in pair})
    unknown = {x for pair in pairs for x in pair} - set(names)
    if unknown:
        raise ValueError(f"labels not in {names}: {sorted(unknown)}")
    confusion = {h: dict.fromkeys(names, 0) for h in names}
    for human, scorer in pairs:
        confusion[human][scorer] += 1
    n = len(pairs)
    return AgreementStats(
        n=n,
        labels=names,
        agreement=sum(h == s for h, s in pairs) / n if n else 0.0,
        kappa=cohen_kappa(pairs),
        confusion=confusion,
    )


def summary_text(stats: AgreementStats) -> str:
    """``n=..., agreement=..., κ=...`` for a card's notes."""
    return f"n={stats.n}, agreement={stats.agreement:.4f}, κ={stats.kappa:.3f}"


def confusion_text(stats: AgreementStats) -> str:
    """The confusion matrix in words for a card's notes: ``human a: 3 a, 1 b; human b: ...``."""
    return "; ".join(
        f"human {human}: " + ", ".join(f"{n} {scorer}" for scorer, n in row.items())
        for human, row in stats.confusion.items()
    )


@functools.cache
def load_cards() -> dict[str, ValidationCard]:
    """The cards shipped in the package, by scorer name."""
    folder = resources.files("tutorlab.scoring.validation") / "cards"
    cards: dict[str, ValidationCard] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            card = ValidationCard.model_validate(json.loads(entry.read_text(encoding="utf-8")))
            cards[card.scorer] = card
    return cards


def card_for(scorer: str) -> ValidationCard | None:
    """The published card of a scorer, or None when it has not been validated."""
    return load_cards().get(scorer)
