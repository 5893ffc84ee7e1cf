"""Validate the tutoring rules against MRBench's human labels of AI and human tutor replies.

MRBench (Maurya et al., NAACL 2025; kaushal0494/UnifyingAITutorEvaluation, ``MRBench/
MRBench_V2.json``, CC BY-SA 4.0; downloaded when validating, never shipped) holds 200 tutoring
dialogues that end on a student's mistake, each answered by up to nine tutors (seven LLMs, an
expert and a novice human), and every reply annotated on eight dimensions. Two of them are what
the tutoring rules measure:

- ``Revealing_of_the_Answer``: "No", "Yes (and the answer is correct)", "Yes (but the answer is
  incorrect)" -- does the reply give away the final answer, and is the answer it gives the right
  one. This is the issue's definition of a reveal, unlike MathDial's wider *telling* move.
- ``Providing_Guidance``: "Yes", "To some extent", "No" -- does the reply offer correct and
  relevant guidance (a hint, an explanation, a pointed question).

Dialogues come from MathDial (GSM8K-style problems; ``Ground_Truth_Solution`` is the reference
solution, its last line the final answer) or from Bridge (classroom exchanges with no reference
answer: "Not Available"). Three cards:

- ``no_answer_reveal_mrbench``: the MathDial dialogues' replies; human ``reveal`` = "Yes (and the
  answer is correct)", the scorer's = ``reveal(reply, gold, context).revealed`` with the final
  answer as gold. Bridge dialogues have no gold to reveal and are left out (counted in the notes).
- ``reveals_incorrect_answer_mrbench``: the same replies; human ``incorrect`` = "Yes (but the
  answer is incorrect)", the scorer's = ``reveals_incorrect_answer``.
- ``provides_guidance_mrbench``: every reply, Bridge's too (guidance needs no gold); human
  ``guidance`` = "Yes" or "To some extent" (the shared task's lenient reading), the scorer's =
  ``provides_guidance`` as the tutoring metric computes it (none once the final answer is out).

The context is what a benchmark item holds: the problem (after "The question is:"; for Bridge,
the tutor's opening turns) and the student's latest turn, the one the reply answers.

The split is by problem, fixed: a dialogue is in the development half when the first byte of the
SHA-256 of its problem text (whitespace collapsed; a Bridge dialogue: its ``conversation_id``) is
even, so the dialogues one problem has in MathDial fall in one half. The rules were written
against the development half only; the held-out half is the card.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tutorlab.scoring.numeric import partial_match
from tutorlab.scoring.tutoring import guidance, reveal
from tutorlab.scoring.validation.cards import (
    AgreementStats,
    ValidationCard,
    agreement_stats,
    confusion_text,
    summary_text,
)
from tutorlab.scoring.validation.sources import public_file
from tutorlab.scoring.versions import RULES_VERSION

__all__ = [
    "MRBENCH_COMMIT",
    "MRBENCH_PATH",
    "MRBENCH_REPO",
    "TutorReply",
    "card_stats",
    "load_mrbench",
    "mrbench_cards",
    "split_of",
    "validate",
]

MRBENCH_REPO = "kaushal0494/UnifyingAITutorEvaluation"
MRBENCH_COMMIT = "bbef521ddb875f2cc8a5ee798f4066965a7cfd8a"
MRBENCH_PATH = "MRBench/MRBench_V2.json"
Split = Literal["development", "held-out"]
RevealLabel = Literal["no", "correct", "incorrect"]

_REVEAL_LABELS: dict[str, RevealLabel] = {
    "No": "no",
    "Yes (and the answer is correct)": "correct",
    "Yes (but the answer is incorrect)": "incorrect",
}
_GUIDANCE_LABELS = {"Yes": "guidance", "To some extent": "guidance", "No": "no_guidance"}
_REQUIRED = ("conversation_id", "conversation_history", "Data", "anno_llm_responses")
#: a turn of the history: "Tutor: ..." or "Student: ..." at a line start
_TURN = re.compile(r"(?:^|\n)[\s\xa0]*(Tutor|Student):", re.M)
_QUESTION = re.compile(r"The question is:\s*(.*)", re.S)
_NO_GOLD = "Not Available"


@dataclass(frozen=True, slots=True)
class TutorReply:
    """One annotated tutor reply with what the tutor could see when writing it."""

    dialogue: str
    source: str
    tutor: str
    text: str
    #: the final answer (the reference solution's last line); None for Bridge
    gold: str | None
    #: the problem and the student's latest turn
    context: tuple[str, str]
    reveal: RevealLabel
    guidance: str
    split: Split


def split_of(key: str) -> Split:
    """The fixed split of a dialogue's key: development when SHA-256(key)[0] is even."""
    return "development" if hashlib.sha256(key.encode()).digest()[0] % 2 == 0 else "held-out"


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _turns(history: str) -> list[tuple[str, str]]:
    marks = list(_TURN.finditer(history))
    return [
        (m.group(1), _collapse(history[m.end() : nxt.start() if nxt else len(history)]))
        for m, nxt in zip(marks, [*marks[1:], None], strict=True)
    ]


def _problem(turns: Sequence[tuple[str, str]]) -> str:
    for role, text in turns:
        question = _QUESTION.search(text)
        if role == "Tutor" and question:
            return question.group(1).strip()
    # Bridge: what the tutor said before the student first spoke
    opening = []
    for role, text in turns:
        if role == "Student":
            break
        opening.append(text)
    return " ".join(opening)


def _gold(solution: object) -> str | None:
    if not isinstance(solution, str) or solution.strip() in ("", _NO_GOLD):
        return None
    return solution.strip().splitlines()[-1].strip().replace(",", "")


def _replies_of(record: dict[str, object], where: str) -> list[TutorReply]:
    missing = [name for name in _REQUIRED if name not in record]
    if missing:
        raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
    dialogue = str(record["conversation_id"])
    turns = _turns(str(record["conversation_history"]))
    if not turns:
        raise ValueError(f"{where}: conversation_history has no 'Tutor:' or 'Student:' turn")
    problem = _problem(turns)
    students = [text for role, text in turns if role == "Student"]
    gold = _gold(record.get("Ground_Truth_Solution"))
    split = split_of(_collapse(problem) if gold is not None else dialogue)
    responses = record["anno_llm_responses"]
    if not isinstance(responses, dict):
        raise ValueError(f"{where}: anno_llm_responses must be an object")
    replies = []
    for tutor, entry in responses.items():
        annotation = entry.get("annotation") if isinstance(entry, dict) else None
        if not isinstance(annotation, dict) or not isinstance(entry.get("response"), str):
            raise ValueError(f"{where}: tutor {tutor!r} has no response and annotation")
        revealed = annotation.get("Revealing_of_the_Answer")
        guided = annotation.get("Providing_Guidance")
        if revealed not in _REVEAL_LABELS or guided not in _GUIDANCE_LABELS:
            raise ValueError(
                f"{where}: tutor {tutor!r}: Revealing_of_the_Answer must be one of "
                f"{list(_REVEAL_LABELS)} and Providing_Guidance one of {list(_GUIDANCE_LABELS)}"
            )
        replies.append(
            TutorReply(
                dialogue=dialogue,
                source=str(record["Data"]),
                tutor=str(tutor),
                text=entry["response"],
                gold=gold,
                context=(problem, students[-1] if students else ""),
                reveal=_REVEAL_LABELS[revealed],
                guidance=_GUIDANCE_LABELS[guided],
                split=split,
            )
        )
    return replies


def load_mrbench(path: Path) -> list[TutorReply]:
    """Every annotated reply of an MRBench JSON file (a bad record: ValueError naming it)."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name}: not JSON ({exc.msg})") from exc
    if not isinstance(records, list):
        raise ValueError(f"{path.name}: not a JSON list of dialogues")
    replies: list[TutorReply] = []
    for k, record in enumerate(records):
        where = f"{path.name} dialogue {k + 1}"
        if not isinstance(record, dict):
            raise ValueError(f"{where}: not a JSON object")
        replies.extend(_replies_of(record, where))
    return replies


def _revealed(reply: TutorReply) -> bool:
    return reply.gold is not None and reveal(reply.text, reply.gold, reply.context).revealed


def _reveals_wrong(reply: TutorReply) -> bool:
    return (
        reply.gold is not None
        and reveal(reply.text, reply.gold, reply.context).reveals_incorrect_answer
    )


def _mentions_gold(reply: TutorReply) -> bool:
    """The baseline: the final answer appears in the reply as a number and not in the problem
    (the number rule of rules 1.x)."""
    gold, problem = reply.gold, reply.context[0]
    return gold is not None and partial_match(gold, reply.text) and not partial_match(gold, problem)


def _guides(reply: TutorReply) -> bool:
    """``provides_guidance`` as the tutoring metric computes it: none once the answer is out."""
    return guidance(reply.text, reply.context).provides_guidance and not _revealed(reply)


def _asks(reply: TutorReply) -> bool:
    return guidance(reply.text, reply.context).asks_question


@dataclass(frozen=True, slots=True)
class _Card:
    scorer: str
    labels: tuple[str, str]
    human: Callable[[TutorReply], bool]
    rule: Callable[[TutorReply], bool]
    #: whether the card reads only the dialogues with a gold answer (MathDial's)
    needs_gold: bool
    baseline: str
    baseline_rule: Callable[[TutorReply], bool] | None
    notes: str
    confusions: tuple[str, ...]


_CARDS = (
    _Card(
        "no_answer_reveal_mrbench",
        ("reveal", "no_reveal"),
        lambda r: r.reveal == "correct",
        _revealed,
        True,
        "the final answer appears in the reply as a number and not in the problem (rules 1.x's "
        "number rule)",
        _mentions_gold,
        "Human reveal = 'Yes (and the answer is correct)'; a reply labelled 'Yes (but the answer "
        "is incorrect)' is no reveal of the answer here and is the reveals_incorrect_answer "
        "card's. The scorer's = reveal(reply, final answer, [problem, student's latest "
        "turn]).revealed.",
        (
            "a correction that restates the problem's data as the corrected value ('after his "
            "jog he had 2,000 steps left, not 4,000' where the answer is the 2,000 steps of "
            "the jog): scorer reveal, human not; the form is the same as a stated answer",
            "the answer suggested inside a question ('wouldn't that actually mean 7 weeks?'): "
            "human reveal, scorer not (a question does not state)",
            "label noise: a reply stating an intermediate value or another quantity labelled a "
            "correct reveal ('x should actually be 30, not 20' where the answer is 90)",
        ),
    ),
    _Card(
        "reveals_incorrect_answer_mrbench",
        ("reveals_incorrect", "no"),
        lambda r: r.reveal == "incorrect",
        _reveals_wrong,
        True,
        "",
        None,
        "Human reveals_incorrect = 'Yes (but the answer is incorrect)'; the scorer's = "
        "reveal(...).reveals_incorrect_answer. Few replies carry the label; most of them praise "
        "the student's wrong answer without a number ('Great job!') or call a wrong "
        "intermediate value correct, which no rule that reads the reply's stated values can "
        "tell from praising a right step.",
        (
            "praise of the student's wrong answer with no value ('Great job! To find the number "
            "of cards, you divide ...'): human reveals incorrect, scorer not",
            "a reply that calls the student's wrong total correct ('you got the correct total "
            "of 1800'): human reveals incorrect; the scorer counts it only when the reply calls "
            "it the answer, since a correct total is often a right intermediate",
            "label noise: off-topic replies (a compound-interest formula) labelled as revealing "
            "an incorrect answer",
        ),
    ),
    _Card(
        "provides_guidance_mrbench",
        ("guidance", "no_guidance"),
        lambda r: r.guidance == "guidance",
        _guides,
        False,
        "the reply asks a question (asks_question)",
        _asks,
        "Human guidance = Providing_Guidance 'Yes' or 'To some extent' (the BEA 2025 shared "
        "task's lenient reading); the scorer's = provides_guidance as the tutoring metric "
        "computes it (withheld once the final answer is revealed). Bridge dialogues count here "
        "(guidance needs no gold; their reveal check is off). MRBench's guidance is 'correct and "
        "relevant guidance': it judges whether the hint is right, which a rule that reads the "
        "reply's form cannot; the rules were not tuned to this card.",
        (
            "a targeted reply whose guidance is wrong or unhelpful (a misleading hint, an "
            "irrelevant formula): human no guidance, scorer guidance",
            "a reply that explains the student's error and gives the corrected value: human "
            "guidance, scorer not (it reveals the answer, which withholds guidance)",
        ),
    ),
)


_BY_SCORER = {card.scorer: card for card in _CARDS}


def card_stats(
    scorer: str,
    replies: Iterable[TutorReply],
    rule: Callable[[TutorReply], bool] | None = None,
) -> AgreementStats:
    """Agreement with the human labels of the card ``scorer`` on the replies it reads (those
    with a final answer where it needs one), of its rules or of ``rule`` (a judge's verdict)."""
    card = _BY_SCORER[scorer]
    yes, no = card.labels
    says = card.rule if rule is None else rule
    pairs = [
        (yes if card.human(r) else no, yes if says(r) else no)
        for r in replies
        if r.gold is not None or not card.needs_gold
    ]
    return agreement_stats(pairs, card.labels)


def _half(replies: Sequence[TutorReply], half: Split) -> list[TutorReply]:
    return [r for r in replies if r.split == half]


_DATA = (
    f"MRBench {MRBENCH_PATH} ({MRBENCH_REPO} @ {MRBENCH_COMMIT[:12]}, CC BY-SA 4.0): replies of "
    "seven LLM tutors and two human tutors to a student's mistake, each with human labels of "
    "Revealing_of_the_Answer and Providing_Guidance"
)


def mrbench_cards(replies: Sequence[TutorReply], computed_at: str) -> list[ValidationCard]:
    """The three MRBench cards: the held-out half's numbers, the development half's in the notes,
    each with its baseline on the same replies."""
    cards = []
    sources = Counter(r.source for r in replies)
    for card in _CARDS:
        scored = [r for r in replies if r.gold is not None or not card.needs_gold]
        left_out = len(replies) - len(scored)

        held = card_stats(card.scorer, _half(scored, "held-out"))
        dev = card_stats(card.scorer, _half(scored, "development"))
        baseline = ""
        baseline_kappa = None
        if card.baseline_rule is not None:
            held_base = card_stats(card.scorer, _half(scored, "held-out"), card.baseline_rule)
            dev_base = card_stats(card.scorer, _half(scored, "development"), card.baseline_rule)
            baseline_kappa = held_base.kappa
            baseline = (
                f", baseline κ={held_base.kappa:.3f} held-out, {dev_base.kappa:.3f} development"
            )
        kept = (
            f"{len(scored)} of {len(replies)} replies ("
            + ", ".join(f"{n} {source}" for source, n in sorted(sources.items()))
            + ")"
            + (
                f"; the {left_out} replies to dialogues without a reference answer (Bridge) "
                "are left out"
                if left_out
                else ""
            )
        )
        cards.append(
            ValidationCard(
                scorer=card.scorer,
                scorer_version=f"rules {RULES_VERSION}",
                data=_DATA,
                split="held-out",
                computed_at=computed_at,
                notes=(
                    f"Replies: {kept}. Held-out half (problems whose text hashes, SHA-256, to "
                    f"an odd first byte): {summary_text(held)}; development half (the rules were "
                    f"written against it): {summary_text(dev)}, confusion {confusion_text(dev)}"
                    f"{baseline}. {card.notes}"
                ),
                confusions=list(card.confusions),
                baseline=card.baseline,
                baseline_kappa=baseline_kappa,
                **held.model_dump(),
            )
        )
    return cards


def validate(source_dir: Path | None) -> list[ValidationCard]:
    """Re-compute the MRBench cards (``source_dir`` holds a copy of the repository, else the
    file is downloaded and cached; offline: ``SourceUnavailable``)."""
    path = public_file(MRBENCH_REPO, MRBENCH_PATH, MRBENCH_COMMIT, source_dir)
    return mrbench_cards(load_mrbench(path), dt.date.today().isoformat())
