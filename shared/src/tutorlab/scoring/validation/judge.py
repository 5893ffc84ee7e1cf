"""Validate an LLM judge against the same human labels as the rule scorers.

``python -m tutorlab.scoring.validation --judge <model>`` resolves ``<model>`` in tutor-api's
registry, sends it the judge rubrics' prompts (``tutorlab.scoring.judge_rubrics``, the ones a
benchmark's judge gets) for the development data of the rule scorers, reads its answers with the
rubrics' parsers, and computes one card per metric, whose scorer is ``judge:<rubric version>``:

- ``refusal`` and ``refusal_binary`` (safety rubric): XSTest's completions of gpt4, llama2orig
  and mistralinstruct, each shown to the judge with its prompt (``refusal.load_completions``;
  XSTest's other completion files stay unread, as for the rules);
- ``no_answer_reveal`` and ``provides_guidance`` (tutoring rubric): MathDial's teacher turns of
  one split (development by default), each shown with the problem, the student's message it
  answers and the reference solution's final answer as the gold (``tutoring.load_mathdial``).
  Reveal: the judge's ``Revealing_of_the_Answer`` is ``Yes``; guidance: ``Providing_Guidance``
  is ``Yes`` -- what the benchmark's judge metrics count (``judge_metrics``).

An item the judge gave no verdict on (a failed request, an answer that does not parse) is left
out of the card's ``n`` and counted in its notes. Each card's baseline is the rules on the same
items, so the two can be compared directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import httpx

from tutorlab.clients import build_client
from tutorlab.contracts.endpoints import ModelEndpoint
from tutorlab.registry_client import RegistryClient, RegistryError
from tutorlab.scoring.judge_rubrics import (
    SAFETY_RUBRIC_VERSION,
    TUTOR_RUBRIC_VERSION,
    JudgeAnswer,
    JudgePrompt,
    ask_judge,
    judge_metrics,
    safety_messages,
    tutor_messages,
)
from tutorlab.scoring.refusal import REFUSAL_LABELS, classify_refusal, is_refusal
from tutorlab.scoring.validation.cards import AgreementStats, ValidationCard, agreement_stats
from tutorlab.scoring.validation.refusal import (
    BINARY_LABELS,
    XSTEST_COMMIT,
    XSTEST_MODELS,
    XSTEST_REPO,
    Completion,
    completions_path,
    load_completions,
)
from tutorlab.scoring.validation.sources import public_file
from tutorlab.scoring.validation.tutoring import (
    MATHDIAL_COMMIT,
    MATHDIAL_PATH,
    MATHDIAL_REPO,
    Split,
    TeacherTurn,
    guidance_pairs,
    load_mathdial,
    reveal_pairs,
    split_of,
)
from tutorlab.scoring.versions import RULES_VERSION

__all__ = [
    "JUDGE_SETS",
    "JudgeValidationError",
    "judge_cards",
    "resolve_judge",
    "validate_judge",
]

JudgeSet = Literal["refusal", "tutoring"]
JUDGE_SETS: tuple[JudgeSet, ...] = ("refusal", "tutoring")


class JudgeValidationError(Exception):
    """The judge cannot be validated (not registered, unreachable, answered nothing)."""


@dataclass(frozen=True, slots=True)
class _Judged:
    """The items of one data set and the judge's answer to each (by position)."""

    answers: Mapping[int, JudgeAnswer]
    total: int

    @property
    def errors(self) -> list[str]:
        return [a.error or "" for a in self.answers.values() if a.labels is None]

    def labelled(self) -> dict[int, dict[str, object]]:
        return {i: a.labels for i, a in self.answers.items() if a.labels is not None}


async def resolve_judge(
    name: str,
    tutor_api_url: str,
    *,
    api_key: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ModelEndpoint:
    """The registered model ``name``'s endpoint, from tutor-api's registry."""
    registry = RegistryClient(tutor_api_url, api_key=api_key, transport=transport)
    try:
        return await registry.get_model(name)
    except (RegistryError, ValueError) as exc:  # ValueError: not a model endpoint
        raise JudgeValidationError(f"--judge {name}: {exc}") from exc
    finally:
        await registry.aclose()


T = TypeVar("T")


def _limited(items: Sequence[T], limit: int | None) -> list[T]:
    return list(items if limit is None else items[:limit])


def load_sets(
    source_dir: Path | None, only: Sequence[JudgeSet], split: Split, limit: int | None
) -> tuple[list[Completion], list[TeacherTurn]]:
    """The XSTest completions (the first ``limit`` of each model's file) and the MathDial
    teacher turns of ``split`` (its first ``limit``) the judge is validated on."""
    completions: list[Completion] = []
    if "refusal" in only:
        for model in XSTEST_MODELS:
            path = public_file(XSTEST_REPO, completions_path(model), XSTEST_COMMIT, source_dir)
            completions.extend(_limited(load_completions(path, model), limit))
    turns: list[TeacherTurn] = []
    if "tutoring" in only:
        path = public_file(MATHDIAL_REPO, MATHDIAL_PATH, MATHDIAL_COMMIT, source_dir)
        mine = [t for t in load_mathdial(path) if split_of(t.qid) == split]
        turns = _limited(mine, limit)
    return completions, turns


def _student(turn: TeacherTurn) -> str:
    """What a benchmark's tutoring item holds: the problem, then the student's message."""
    return "\n\n".join(turn.context)


def _gold(turn: TeacherTurn) -> str | None:
    return turn.golds[-1] if turn.golds else None


async def _judge(
    endpoint: ModelEndpoint,
    completions: Sequence[Completion],
    turns: Sequence[TeacherTurn],
    transport: httpx.AsyncBaseTransport | None,
    env: Mapping[str, str] | None,
) -> tuple[_Judged, _Judged]:
    prompts = [
        JudgePrompt(f"s{i}", "safety", safety_messages(c.prompt, c.completion))
        for i, c in enumerate(completions)
    ] + [
        JudgePrompt(f"t{i}", "tutor", tutor_messages(_gold(t), _student(t), t.text))
        for i, t in enumerate(turns)
    ]
    client = build_client(endpoint, transport=transport, env=env)
    try:
        answers = await ask_judge(client, prompts, cache=None)
    finally:
        await client.aclose()

    def of(prefix: str, total: int) -> _Judged:
        return _Judged({i: answers[f"{prefix}{i}"] for i in range(total)}, total)

    return of("s", len(completions)), of("t", len(turns))


def _binary(label: str) -> str:
    return "refusal" if is_refusal(label) else "compliance"


def _summary(stats: AgreementStats) -> str:
    return f"n={stats.n}, agreement={stats.agreement:.4f}, κ={stats.kappa:.3f}"


def _card(
    *,
    rubric: str,
    metric: str,
    judge: AgreementStats,
    rules: AgreementStats,
    judged: _Judged,
    endpoint: ModelEndpoint,
    data: str,
    split: str,
    what: str,
) -> ValidationCard:
    errors = judged.errors
    first = f" (first: {errors[0][:200]})" if errors else ""
    return ValidationCard(
        scorer=f"judge:{rubric}",
        metric=metric,
        scorer_version=rubric,
        data=f"{data}; judged by {endpoint.name} ({endpoint.kind.value} model {endpoint.model})",
        split=split,
        computed_at=dt.date.today().isoformat(),
        notes=(
            f"{what} Judge {endpoint.name} ({endpoint.kind.value} model {endpoint.model}), "
            f"rubric {rubric}. {len(errors)} of {judged.total} items got no verdict from the "
            f"judge and are left out{first}. The rules (rules {RULES_VERSION}) on the same "
            f"items: {_summary(rules)}."
        ),
        baseline=f"the rules (rules {RULES_VERSION}) on the same items",
        baseline_kappa=rules.kappa,
        **judge.model_dump(),
    )


def _refusal_cards(
    completions: Sequence[Completion], judged: _Judged, endpoint: ModelEndpoint
) -> list[ValidationCard]:
    labels = judged.labelled()
    items = [(c, str(labels[i]["label"])) for i, c in enumerate(completions) if i in labels]
    data = (
        f"XSTest v2 model completions ({XSTEST_REPO} @ {XSTEST_COMMIT[:12]}), files "
        + ", ".join(completions_path(m) for m in XSTEST_MODELS)
        + ": each reply, with its prompt, judged against its agreed human label (final_label)"
    )
    cards = []
    for metric, binary in (("refusal", False), ("refusal_binary", True)):

        def label(x: str, binary: bool = binary) -> str:
            return _binary(x) if binary else x

        names = BINARY_LABELS if binary else REFUSAL_LABELS
        judge = [(label(c.human), label(j)) for c, j in items]
        rules = [(label(c.human), label(classify_refusal(c.completion).label)) for c, _ in items]
        cards.append(
            _card(
                rubric=SAFETY_RUBRIC_VERSION,
                metric=metric,
                judge=agreement_stats(judge, names),
                rules=agreement_stats(rules, names),
                judged=judged,
                endpoint=endpoint,
                data=data,
                split="development",
                what="Labels: "
                + ("refusal (full or partial) vs compliance." if binary else "the three classes."),
            )
        )
    return cards


def _tutoring_cards(
    turns: Sequence[TeacherTurn], judged: _Judged, endpoint: ModelEndpoint, split: Split
) -> list[ValidationCard]:
    labels = judged.labelled()
    kept = [t for i, t in enumerate(turns) if i in labels]
    metrics = {
        id(t): judge_metrics("tutoring", labels[i]) for i, t in enumerate(turns) if i in labels
    }
    data = (
        f"MathDial {MATHDIAL_PATH} ({MATHDIAL_REPO} @ {MATHDIAL_COMMIT[:12]}), the {split} "
        "half's teacher turns, each with the problem, the student's message it answers and the "
        "reference solution's final answer as the gold, judged against the teacher's move"
    )
    judge_rules: dict[str, Callable[[TeacherTurn], bool]] = {
        "no_answer_reveal": lambda t: metrics[id(t)]["judge_no_answer_reveal"] is False,
        "provides_guidance": lambda t: bool(metrics[id(t)]["judge_guidance"]),
    }
    return [
        _card(
            rubric=TUTOR_RUBRIC_VERSION,
            metric=metric,
            judge=agreement_stats(pairs_of(kept, judge_rules[metric]), labels),
            rules=agreement_stats(pairs_of(kept), labels),
            judged=judged,
            endpoint=endpoint,
            data=data,
            split=split,
            what=what,
        )
        for metric, pairs_of, labels, what in (
            (
                "no_answer_reveal",
                reveal_pairs,
                ("reveal", "no_reveal"),
                "Human reveal = the teacher's move is telling; the judge's = "
                "Revealing_of_the_Answer is Yes.",
            ),
            (
                "provides_guidance",
                guidance_pairs,
                ("guidance", "no_guidance"),
                "Human guidance = focus or probing, no guidance = generic (telling turns left "
                "out); the judge's = Providing_Guidance is Yes.",
            ),
        )
    ]


def _check(judged: _Judged, what: str) -> None:
    if judged.total and not judged.labelled():
        raise JudgeValidationError(
            f"the judge gave no verdict on any of the {judged.total} {what} items "
            f"(first: {judged.errors[0][:200]})"
        )


async def judge_cards(
    endpoint: ModelEndpoint,
    *,
    source_dir: Path | None = None,
    only: Sequence[JudgeSet] = JUDGE_SETS,
    split: Split = "development",
    limit: int | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    env: Mapping[str, str] | None = None,
) -> list[ValidationCard]:
    """The judge at ``endpoint``'s cards on the selected data sets (read from ``source_dir``,
    else downloaded and cached: ``SourceUnavailable`` offline). ``transport``/``env``: the
    model client's HTTP edge and where it reads its key (tests)."""
    completions, turns = load_sets(source_dir, only, split, limit)
    safety, tutoring = await _judge(endpoint, completions, turns, transport, env)
    _check(safety, "XSTest")
    _check(tutoring, "MathDial")
    cards: list[ValidationCard] = []
    if completions:
        cards += _refusal_cards(completions, safety, endpoint)
    if turns:
        cards += _tutoring_cards(turns, tutoring, endpoint, split)
    return cards


async def validate_judge(
    name: str,
    tutor_api_url: str,
    *,
    api_key: str | None = None,
    registry_transport: httpx.AsyncBaseTransport | None = None,
    model_transport: httpx.AsyncBaseTransport | None = None,
    env: Mapping[str, str] | None = None,
    source_dir: Path | None = None,
    only: Sequence[JudgeSet] = JUDGE_SETS,
    split: Split = "development",
    limit: int | None = None,
) -> list[ValidationCard]:
    """Resolve the registered model ``name`` in tutor-api and compute its judge cards (the
    other options: :func:`judge_cards`'s)."""
    endpoint = await resolve_judge(
        name, tutor_api_url, api_key=api_key, transport=registry_transport
    )
    return await judge_cards(
        endpoint,
        source_dir=source_dir,
        only=only,
        split=split,
        limit=limit,
        transport=model_transport,
        env=env,
    )
