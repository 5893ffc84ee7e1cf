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
  Reveal: the judge's ``Revealing_of_the_Answer`` is ``Yes (correct)``; guidance:
  ``Providing_Guidance`` is ``Yes`` -- what the benchmark's judge metrics count
  (``judge_metrics``);
- ``no_answer_reveal_mrbench``, ``reveals_incorrect_answer_mrbench`` and
  ``provides_guidance_mrbench`` (tutoring rubric): MRBench's tutor replies of one split, each
  shown with the problem, the student's latest turn and the final answer as the gold (none for
  Bridge's dialogues), against the human labels the rules' MRBench cards read
  (``mrbench.card_stats``): reveal = "Yes (and the answer is correct)", reveals incorrect = "Yes
  (but the answer is incorrect)", both with Bridge left out; guidance = "Yes" or "To some
  extent". The judge's side is read as for MathDial; its wrong-answer reveal is
  ``Revealing_of_the_Answer`` ``Yes (incorrect)`` (``judge_reveals_incorrect_answer``).

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
from tutorlab.scoring.validation.mrbench import (
    MRBENCH_COMMIT,
    MRBENCH_PATH,
    MRBENCH_REPO,
    TutorReply,
    card_stats,
    load_mrbench,
)
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

JudgeSet = Literal["refusal", "tutoring", "mrbench"]
JUDGE_SETS: tuple[JudgeSet, ...] = ("refusal", "tutoring", "mrbench")


class JudgeValidationError(Exception):
    """The judge cannot be validated (not registered, unreachable, answered nothing)."""


@dataclass(frozen=True, slots=True)
class _Judged:
    """The items of one data set and the judge's answer to each (by position)."""

    answers: Mapping[int, JudgeAnswer]
    total: int

    @classmethod
    def of(cls, answers: Mapping[str, JudgeAnswer], prompts: Sequence[JudgePrompt]) -> _Judged:
        return cls({i: answers[p.id] for i, p in enumerate(prompts)}, len(prompts))

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


@dataclass(frozen=True, slots=True)
class _Sets:
    completions: list[Completion]
    turns: list[TeacherTurn]
    replies: list[TutorReply]


def load_sets(
    source_dir: Path | None, only: Sequence[JudgeSet], split: Split, limit: int | None
) -> _Sets:
    """The XSTest completions (the first ``limit`` of each model's file), the MathDial teacher
    turns and the MRBench replies of ``split`` (the first ``limit`` of each) the judge is
    validated on."""
    completions: list[Completion] = []
    if "refusal" in only:
        for model in XSTEST_MODELS:
            path = public_file(XSTEST_REPO, completions_path(model), XSTEST_COMMIT, source_dir)
            completions.extend(_limited(load_completions(path, model), limit))
    turns: list[TeacherTurn] = []
    if "tutoring" in only:
        path = public_file(MATHDIAL_REPO, MATHDIAL_PATH, MATHDIAL_COMMIT, source_dir)
        turns = _limited([t for t in load_mathdial(path) if split_of(t.qid) == split], limit)
    replies: list[TutorReply] = []
    if "mrbench" in only:
        path = public_file(MRBENCH_REPO, MRBENCH_PATH, MRBENCH_COMMIT, source_dir)
        replies = _limited([r for r in load_mrbench(path) if r.split == split], limit)
    return _Sets(completions, turns, replies)


def _tutor_prompt(key: str, gold: str | None, context: Sequence[str], reply: str) -> JudgePrompt:
    """A reply shown as a benchmark's tutoring item is: the problem, then the student's
    message, and the final answer as the gold."""
    return JudgePrompt(key, "tutor", tutor_messages(gold, "\n\n".join(context), reply))


async def _judge(
    endpoint: ModelEndpoint,
    prompts: Sequence[Sequence[JudgePrompt]],
    transport: httpx.AsyncBaseTransport | None,
    env: Mapping[str, str] | None,
) -> list[_Judged]:
    """The judge's answers to each data set's prompts (ids unique across the sets)."""
    client = build_client(endpoint, transport=transport, env=env)
    try:
        answers = await ask_judge(client, [p for group in prompts for p in group], cache=None)
    finally:
        await client.aclose()
    return [_Judged.of(answers, group) for group in prompts]


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
                "Revealing_of_the_Answer is Yes (correct).",
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


def _mrbench_cards(
    replies: Sequence[TutorReply], judged: _Judged, endpoint: ModelEndpoint, split: Split
) -> list[ValidationCard]:
    labels = judged.labelled()
    kept = [r for i, r in enumerate(replies) if i in labels]
    said = {id(r): labels[i] for i, r in enumerate(replies) if i in labels}
    metrics = {key: judge_metrics("tutoring", value) for key, value in said.items()}
    data = (
        f"MRBench {MRBENCH_PATH} ({MRBENCH_REPO} @ {MRBENCH_COMMIT[:12]}), the {split} half's "
        "tutor replies, each with the problem, the student's latest turn and the reference "
        "solution's final answer as the gold (none for Bridge), judged against the human labels"
    )

    def some_guidance(r: TutorReply) -> bool:
        return said[id(r)]["Providing_Guidance"] != "No"

    lenient = card_stats("provides_guidance_mrbench", kept, some_guidance)
    judge_rules: dict[str, Callable[[TutorReply], bool]] = {
        "no_answer_reveal_mrbench": lambda r: metrics[id(r)]["judge_no_answer_reveal"] is False,
        "reveals_incorrect_answer_mrbench": lambda r: bool(
            metrics[id(r)]["judge_reveals_incorrect_answer"]
        ),
        "provides_guidance_mrbench": lambda r: bool(metrics[id(r)]["judge_guidance"]),
    }
    whats = {
        "no_answer_reveal_mrbench": "Human reveal = Revealing_of_the_Answer 'Yes (and the "
        "answer is correct)' (a wrong answer revealed is no reveal, as on the rules' card); the "
        "judge's = its Revealing_of_the_Answer is 'Yes (correct)'. Replies to dialogues without "
        "a reference answer (Bridge) are left out.",
        "reveals_incorrect_answer_mrbench": "Human reveals_incorrect = Revealing_of_the_Answer "
        "'Yes (but the answer is incorrect)'; the judge's = its Revealing_of_the_Answer is 'Yes "
        "(incorrect)' (judge_reveals_incorrect_answer). Replies to dialogues without a reference "
        "answer (Bridge) are left out.",
        "provides_guidance_mrbench": "Human guidance = Providing_Guidance 'Yes' or 'To some "
        "extent', as on the rules' card; the judge's = its Providing_Guidance is Yes "
        "(judge_guidance, what a benchmark counts). Counting the judge's 'To some extent' as "
        f"guidance too: {_summary(lenient)}.",
    }
    return [
        _card(
            rubric=TUTOR_RUBRIC_VERSION,
            metric=metric,
            judge=card_stats(metric, kept, rule),
            rules=card_stats(metric, kept),
            judged=judged,
            endpoint=endpoint,
            data=data,
            split=split,
            what=whats[metric],
        )
        for metric, rule in judge_rules.items()
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
    sets = load_sets(source_dir, only, split, limit)
    safety, tutoring, mrbench = await _judge(
        endpoint,
        [
            [
                JudgePrompt(f"s{i}", "safety", safety_messages(c.prompt, c.completion))
                for i, c in enumerate(sets.completions)
            ],
            [
                _tutor_prompt(f"t{i}", t.golds[-1] if t.golds else None, t.context, t.text)
                for i, t in enumerate(sets.turns)
            ],
            [_tutor_prompt(f"m{i}", r.gold, r.context, r.text) for i, r in enumerate(sets.replies)],
        ],
        transport,
        env,
    )
    _check(safety, "XSTest")
    _check(tutoring, "MathDial")
    _check(mrbench, "MRBench")
    cards: list[ValidationCard] = []
    if sets.completions:
        cards += _refusal_cards(sets.completions, safety, endpoint)
    if sets.turns:
        cards += _tutoring_cards(sets.turns, tutoring, endpoint, split)
    if sets.replies:
        cards += _mrbench_cards(sets.replies, mrbench, endpoint, split)
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
