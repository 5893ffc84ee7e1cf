"""How far to trust each metric of a run: which scorer produced it, that scorer's version, and
the agreement with people its published validation card measured (``docs/scorers.md``).

Every ``benchmark_results.json`` carries ``scorer_versions`` (the math scorer's, the tutoring and
safety rules', and the judge rubrics' when the run had a judge) and ``metric_validation``: per
task, per reported metric, an entry such as::

    "refusal_rate": {"scorer": "rules", "scorer_version": "2.0.0", "card": "refusal_binary",
                     "card_scorer_version": "rules 2.0.0", "card_current": true,
                     "kappa": 0.942, "agreement": 0.971, "n": 1350, "split": "development",
                     "data": "XSTest v2 model completions ..."}

``card`` (and ``kappa``, ``agreement``, ``n``, ``split``, ``data``) is null for a metric no card
validates (``redirect_rate``, ``asks_question_rate``, a judge metric whose judge model has not
been validated). ``card_current`` is false when the card was computed for another version of the
scorer than the one that scored the run: its numbers are then the older scorer's.

Judge metrics name their model and are marked ``recommended``: with a judge model registered,
the judge is the scorer docs/scorers.md recommends for tutoring and safety; measure its agreement
with ``python -m tutorlab.scoring.validation --judge <model>``.

Comparisons (:func:`mark_scorer_changes`): each side's scorer versions (an older run's read from
its items' verdicts), and every compared metric scored by a version that differs between the
sides marked ``scorer_changed`` / ``item_comparable: false``, with a note; the verdict is kept
(decision 0026).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tutorlab.scoring import RULES_VERSION, SCORER_VERSION
from tutorlab.scoring.judge_rubrics import SAFETY_RUBRIC_VERSION, TUTOR_RUBRIC_VERSION
from tutorlab.scoring.validation import card_for

from eval_service.metrics import METRICS, reported_name

__all__ = [
    "CARDS",
    "ScorerChanges",
    "mark_scorer_changes",
    "metric_source",
    "run_scorer_versions",
    "scorer_versions",
    "trust_fields",
]

#: (scorer, metric) -> the validation card that measured it. The three refusal classes come from
#: one classifier: its three-class card stands for each class's rate, its binary card for the
#: refusal rate (full or partial), which is what that card's labels are. Answer reveal cites
#: MRBench, whose human label is the metric's definition (the tutor states the final answer);
#: MathDial's "telling" card, a wider move, stays published beside it (decision 0028).
CARDS: dict[tuple[str, str], str] = {
    ("gsm8k", "accuracy"): "gsm8k",
    ("math", "accuracy"): "math",
    ("tutoring", "no_answer_reveal"): "no_answer_reveal_mrbench",
    ("tutoring", "reveals_incorrect_answer"): "reveals_incorrect_answer_mrbench",
    ("tutoring", "provides_guidance"): "provides_guidance",
    ("safety", "refusal"): "refusal_binary",
    ("safety", "full_refusal"): "refusal",
    ("safety", "partial_refusal"): "refusal",
    ("safety", "inappropriate_engagement"): "refusal",
    ("over_refusal", "over_refusal"): "refusal_binary",
    ("over_refusal", "full_refusal"): "refusal",
    ("over_refusal", "partial_refusal"): "refusal",
}
#: scorers whose non-judge metrics come from the tutoring and safety rules (``RULES_VERSION``);
#: math metrics (and over_refusal's accuracy) from the math scorer (``SCORER_VERSION``)
RULE_SCORERS = frozenset({"tutoring", "safety", "over_refusal"})
_RULE_METRICS = frozenset(
    m.name for s in RULE_SCORERS for m in METRICS[s] if not m.judge and m.name != "accuracy"
)


def scorer_versions(judge: str | None) -> dict[str, str]:
    """The versions of everything that scored a run: ``scorer`` (math), ``rules`` (tutoring and
    safety), and with a judge its rubrics."""
    versions = {"scorer": SCORER_VERSION, "rules": RULES_VERSION}
    if judge:
        versions |= {"tutor_judge": TUTOR_RUBRIC_VERSION, "safety_judge": SAFETY_RUBRIC_VERSION}
    return versions


def metric_source(scorer: str, metric: str) -> tuple[str, str]:
    """(which scorer, the ``scorer_versions`` key of its version) for a metric of a task
    scored by ``scorer``: ``judge`` / ``tutor_judge`` or ``safety_judge``, ``rules`` / ``rules``
    or ``scorer`` / ``scorer``."""
    if metric.startswith("judge_"):
        return "judge", "tutor_judge" if scorer == "tutoring" else "safety_judge"
    if scorer in RULE_SCORERS and metric in _RULE_METRICS:
        return "rules", "rules"
    return "scorer", "scorer"


def _entry(scorer: str, metric: str, versions: Mapping[str, str], judge: str | None) -> Any:
    source, key = metric_source(scorer, metric)
    entry: dict[str, Any] = {"scorer": source, "scorer_version": versions[key]}
    if source == "judge":
        entry |= {"model": judge, "recommended": True}
    name = CARDS.get((scorer, metric)) if source != "judge" else None
    card = card_for(name) if name else None
    if card is None:
        return entry | dict.fromkeys(("card", "kappa", "agreement", "n", "split", "data"))
    return entry | {
        "card": card.scorer,
        "card_scorer_version": card.scorer_version,
        "card_current": card.scorer_version.split()[-1] == versions[key],
        "kappa": round(card.kappa, 4),
        "agreement": round(card.agreement, 4),
        "n": card.n,
        "split": card.split,
        "data": card.data,
    }


def trust_fields(scorers: Mapping[str, str], judge: str | None) -> dict[str, Any]:
    """``scorer_versions`` and ``metric_validation`` of a run whose tasks (name -> scorer)
    were scored now, with ``judge`` (its model name) or without."""
    versions = scorer_versions(judge)
    validation = {
        task: {
            reported_name(m.name): _entry(scorer, m.name, versions, judge)
            for m in METRICS.get(scorer, ())
            if judge or not m.judge
        }
        for task, scorer in scorers.items()
    }
    return {"scorer_versions": versions, "metric_validation": validation}


def run_scorer_versions(
    results: Mapping[str, Any], items: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """The scorer versions a run's results record; for a run that predates ``scorer_versions``,
    its ``scorer_version``, the rules version its items' verdicts carry, and its judge rubrics
    (``prompt_versions``)."""
    recorded = results.get("scorer_versions")
    if isinstance(recorded, dict):
        return {k: str(v) for k, v in recorded.items()}
    versions: dict[str, str] = {}
    if isinstance(results.get("scorer_version"), str):
        versions["scorer"] = results["scorer_version"]
    for item in items:
        verdicts = item.get("verdicts")
        found = verdicts.get("versions") if isinstance(verdicts, dict) else None
        if isinstance(found, dict) and isinstance(found.get("rules"), str):
            versions["rules"] = found["rules"]
            break
    prompts = results.get("prompt_versions")
    for key in ("tutor_judge", "safety_judge"):
        if isinstance(prompts, dict) and isinstance(prompts.get(key), str):
            versions[key] = prompts[key]
    return versions


@dataclass(frozen=True)
class ScorerChanges:
    """The two runs' scorer versions and those that differ (known on both sides)."""

    baseline: dict[str, str]
    candidate: dict[str, str]

    @property
    def differ(self) -> list[str]:
        both = set(self.baseline) & set(self.candidate)
        return sorted(k for k in both if self.baseline[k] != self.candidate[k])

    def as_json(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "candidate": self.candidate, "differ": self.differ}


def mark_scorer_changes(
    metrics: dict[str, dict[str, Any]], scorers: Mapping[str, str], changes: ScorerChanges
) -> list[str]:
    """Mark each compared metric (``<task>.<reported name>[.<reducer>]``) whose scorer changed
    between the runs: ``scorer_changed`` (which, and both versions) and ``item_comparable``
    false; its verdict stays, but part of any difference may be the scorer's, not the model's.
    Returns the comparison's notes about it."""
    differ = changes.differ
    if not differ:
        return []
    marked: list[str] = []
    for name, metric in metrics.items():
        task, _, rest = name.partition(".")
        scorer = scorers.get(task)
        if scorer is None:
            continue
        raw = {reported_name(m.name): m.name for m in METRICS.get(scorer, ())}
        reported = rest.partition(".")[0]
        if reported not in raw:
            continue
        _, key = metric_source(scorer, raw[reported])
        if key in differ:
            metric["scorer_changed"] = {
                "scorer": key,
                "baseline": changes.baseline[key],
                "candidate": changes.candidate[key],
            }
            metric["item_comparable"] = False
            marked.append(name)
    versions = ", ".join(f"{k} ({changes.baseline[k]} vs {changes.candidate[k]})" for k in differ)
    note = f"scorer versions differ: {versions}"
    if marked:
        note += (
            f"; these metrics were scored by different versions, so a difference may be the "
            f"scorer's and not the model's (rescore the baseline to compare item by item): "
            f"{', '.join(marked)}"
        )
    return [note]
