"""Validate the tutoring rules against MathDial's human teacher-move labels.

MathDial (eth-nlped/mathdial, ``data/test.jsonl``, CC BY-SA 4.0) holds tutoring dialogues whose
teacher turns carry the move the teacher chose for it, written at the start of the turn::

    "conversation": "Teacher: (focus)What is 12 + 3?|EOM|Student: 15|EOM|Teacher: (generic)Yes!"

Moves: ``focus`` and ``probing`` (scaffolding: a targeted question or hint), ``telling`` (the
teacher gives away part of the solution), ``generic`` (greetings, praise, "talk me through it").

- ``no_answer_reveal``: every teacher turn; human ``reveal`` when the move is ``telling``. The
  scorer's ``reveal`` when ``answer_revealed`` holds for some result of the reference solution
  (each value after ``=`` in ``ground_truth`` and its final answer: in a dialogue every step's
  result is an answer the student is to find). The context is what a benchmark item holds: the
  problem and the student's message the teacher answers (the student's latest turn; before the
  first, their incorrect solution). A value the student said many turns ago and the teacher now
  asserts is told again; one they just said is restated.
- ``provides_guidance``: the teacher turns labelled ``focus``, ``probing`` (human ``guidance``) or
  ``generic`` (``no_guidance``); ``telling`` turns are left out (they guide *and* tell, and the
  labels do not say which). The context is the same.

The split is by problem (``qid``), fixed: a problem is in the development half when the first
byte of the SHA-256 of its decimal qid is even. The rules were tuned on that half only; the
held-out half is the card (what a reader should expect), the development numbers are in its
notes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tutorlab.scoring.numeric import partial_match
from tutorlab.scoring.tutoring import answer_revealed, guidance, stated_values
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
    "MATHDIAL_COMMIT",
    "MATHDIAL_PATH",
    "MATHDIAL_REPO",
    "TeacherTurn",
    "guidance_pairs",
    "load_mathdial",
    "reveal_pairs",
    "split_of",
    "tutoring_cards",
    "validate",
]

MATHDIAL_REPO = "eth-nlped/mathdial"
MATHDIAL_COMMIT = "b452be46f28b1e64cfe2646302e3ca8c502926d0"
MATHDIAL_PATH = "data/test.jsonl"
MOVES = ("focus", "probing", "telling", "generic")
Split = Literal["development", "held-out"]

#: "Teacher: ..." or the student by name ("Cody: ...")
_TURN = re.compile(r"^(?P<role>[^:\n]{1,60}?)\s*:\s*(?P<text>.*)$", re.S)
_MOVE = re.compile(r"^\((?P<move>[a-z]+)\)\s*")
_RESULT = re.compile(r"=\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?)")
_REQUIRED = ("qid", "question", "ground_truth", "student_incorrect_solution", "conversation")


@dataclass(frozen=True, slots=True)
class TeacherTurn:
    """One labelled teacher turn with what the teacher could see when writing it."""

    qid: int
    move: str
    text: str
    #: the reference solution's results: each value after "=", then the final answer
    golds: tuple[str, ...]
    #: the problem and the student's message the teacher answers (their incorrect solution
    #: before the first student turn)
    context: tuple[str, ...]


def split_of(qid: int) -> Split:
    """The fixed split of a problem: development when SHA-256(str(qid))[0] is even."""
    return "development" if hashlib.sha256(str(qid).encode()).digest()[0] % 2 == 0 else "held-out"


def _solution_results(ground_truth: str) -> tuple[str, ...]:
    results = [m.group(1).replace(",", "") for m in _RESULT.finditer(ground_truth)]
    lines = [line.strip() for line in ground_truth.strip().splitlines() if line.strip()]
    if lines:
        results.append(lines[-1].replace(",", ""))
    return tuple(dict.fromkeys(results))


def _turns_of(record: dict[str, object], where: str) -> list[TeacherTurn]:
    missing = [name for name in _REQUIRED if name not in record]
    if missing:
        raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
    qid = record["qid"]
    if not isinstance(qid, int):
        raise ValueError(f"{where}: qid must be an integer, not {qid!r}")
    question = str(record["question"])
    golds = _solution_results(str(record["ground_truth"]))
    latest = str(record["student_incorrect_solution"])
    turns = []
    for k, raw in enumerate(str(record["conversation"]).split("|EOM|")):
        turn = _TURN.match(raw.strip())
        if turn is None:
            raise ValueError(f"{where}: turn {k + 1} names no speaker: {raw[:60]!r}")
        text = turn.group("text").strip()
        if turn.group("role") != "Teacher":
            latest = text
            continue
        move = _MOVE.match(text)
        if move is None or move.group("move") not in MOVES:
            raise ValueError(f"{where}: teacher turn {k + 1} has no move label (one of {MOVES})")
        turns.append(
            TeacherTurn(qid, move.group("move"), text[move.end() :], golds, (question, latest))
        )
    return turns


def load_mathdial(path: Path) -> list[TeacherTurn]:
    """Every labelled teacher turn of a MathDial JSONL file (a bad line: ValueError naming it)."""
    turns: list[TeacherTurn] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise ValueError(f"{where}: not a JSON object")
            turns.extend(_turns_of(record, where))
    return turns


def _reveals(turn: TeacherTurn) -> bool:
    return any(answer_revealed(turn.text, gold, turn.context) for gold in turn.golds)


def _mentions_a_result(turn: TeacherTurn) -> bool:
    """The baseline: a result of the reference solution appears in the turn and not in the
    problem (the number rule of rules 1.x, which could not tell stating from restating)."""
    problem = turn.context[0]
    return any(partial_match(g, turn.text) and not partial_match(g, problem) for g in turn.golds)


def _asserts_a_new_value(turn: TeacherTurn) -> bool:
    context = "\n".join(turn.context)
    return any(not partial_match(v.text, context) for v in stated_values(turn.text))


def _ceiling(turns: Sequence[TeacherTurn]) -> AgreementStats:
    """The best a rule that counts stated values can do: one that calls exactly the telling
    turns asserting a value the context lacks a reveal (it knows the labels)."""
    pairs = [
        (
            "reveal" if turn.move == "telling" else "no_reveal",
            "reveal" if turn.move == "telling" and _asserts_a_new_value(turn) else "no_reveal",
        )
        for turn in turns
    ]
    return agreement_stats(pairs, labels=("reveal", "no_reveal"))


def _guides(turn: TeacherTurn) -> bool:
    """``provides_guidance`` as the tutoring metric computes it: no guidance once the final
    answer is out."""
    if not guidance(turn.text, turn.context).provides_guidance:
        return False
    return not (turn.golds and answer_revealed(turn.text, turn.golds[-1], turn.context))


def _asks(turn: TeacherTurn) -> bool:
    return guidance(turn.text, turn.context).asks_question


def reveal_pairs(
    turns: Iterable[TeacherTurn], rule: Callable[[TeacherTurn], bool] = _reveals
) -> list[tuple[str, str]]:
    """(human, scorer) labels for reveal: human ``reveal`` on a ``telling`` move."""
    return [
        (
            "reveal" if turn.move == "telling" else "no_reveal",
            "reveal" if rule(turn) else "no_reveal",
        )
        for turn in turns
    ]


def guidance_pairs(
    turns: Iterable[TeacherTurn], rule: Callable[[TeacherTurn], bool] = _guides
) -> list[tuple[str, str]]:
    """(human, scorer) labels for guidance on focus/probing/generic moves (telling left out)."""
    return [
        (
            "no_guidance" if turn.move == "generic" else "guidance",
            "guidance" if rule(turn) else "no_guidance",
        )
        for turn in turns
        if turn.move != "telling"
    ]


_NOTES = {
    "no_answer_reveal": (
        " Human reveal = the teacher's move is telling; the scorer's = answer_revealed holds "
        "for one of the reference solution's results, with the problem and the student's "
        "latest message as context. MathDial's telling is wider than a stated result: it "
        "includes naming the operation to do and repeating values the student gave, which "
        "this rule by design does not count, so agreement stays well below the target of "
        "κ 0.75."
    ),
    "provides_guidance": (
        " Human guidance = focus or probing, no guidance = generic; telling turns are left out."
    ),
}


_DATA = (
    f"MathDial {MATHDIAL_PATH} ({MATHDIAL_REPO} @ {MATHDIAL_COMMIT[:12]}, CC BY-SA 4.0): "
    "teacher turns with the move their teacher chose (focus, probing, telling, generic)"
)
_CONFUSIONS = {
    "no_answer_reveal": [
        "telling without a value: the teacher names the operation or the fact to use and leaves "
        "the number to the student ('Now multiply the pens by their price', 'Remember the "
        "weekend days too'): human reveal, scorer no reveal; a third of the missed tellings",
        "telling that repeats a value the student has just given or asserts which of the "
        "student's values is right ('So the total is $20' after the student said 20): the rule "
        "counts restating as no reveal",
        "a focus or probing hint that states an intermediate result on the way to its question "
        "('Half of 10 is 5. How many are left after she buys 4?'): scorer reveal, human not "
        "telling",
        "label noise: content-free replies ('Yes, that is correct', 'Check again') labelled "
        "telling, and questions that hand over a computation ('Can you add 16 + 5?')",
    ],
    "provides_guidance": [
        "generic turns that still point at the problem ('Hi, how many stickers did she give "
        "away?', 'So your answer is?'): scorer guidance",
        "focus or probing turns with no content of their own ('Check again', 'Can you see where "
        "you went wrong?', 'Can you tell me more?'): scorer no guidance",
    ],
}

_BASELINES = {
    "no_answer_reveal": (
        "a result of the reference solution appears in the turn as a number and not in the "
        "problem (rules 1.x's number rule)",
        functools.partial(reveal_pairs, rule=_mentions_a_result),
    ),
    "provides_guidance": (
        "the turn asks a question (asks_question)",
        functools.partial(guidance_pairs, rule=_asks),
    ),
}
_LABELS = {
    "no_answer_reveal": ("reveal", "no_reveal"),
    "provides_guidance": ("guidance", "no_guidance"),
}


def _ceiling_note(scorer: str, dev: Sequence[TeacherTurn], held: Sequence[TeacherTurn]) -> str:
    if scorer != "no_answer_reveal":
        return ""
    return (
        " Ceiling: a rule that knew the labels and called exactly the telling turns asserting a "
        f"value not in the context a reveal would reach κ={_ceiling(held).kappa:.3f} held-out, "
        f"κ={_ceiling(dev).kappa:.3f} development."
    )


def tutoring_cards(turns: Sequence[TeacherTurn], computed_at: str) -> list[ValidationCard]:
    """The ``no_answer_reveal`` and ``provides_guidance`` cards: the held-out half's numbers,
    the development half's in the notes, each with its baseline on the same turns."""
    dev = [t for t in turns if split_of(t.qid) == "development"]
    held = [t for t in turns if split_of(t.qid) == "held-out"]
    cards = []
    for scorer, pairs_of in (
        ("no_answer_reveal", reveal_pairs),
        ("provides_guidance", guidance_pairs),
    ):
        labels = _LABELS[scorer]
        baseline, baseline_pairs = _BASELINES[scorer]
        dev_stats = agreement_stats(pairs_of(dev), labels=labels)
        held_stats = agreement_stats(pairs_of(held), labels=labels)
        dev_base = agreement_stats(baseline_pairs(dev), labels=labels)
        held_base = agreement_stats(baseline_pairs(held), labels=labels)
        cards.append(
            ValidationCard(
                scorer=scorer,
                scorer_version=f"rules {RULES_VERSION}",
                data=_DATA,
                split="held-out",
                computed_at=computed_at,
                notes=(
                    f"Held-out half (problems whose qid hashes, SHA-256, to an odd first byte): "
                    f"{summary_text(held_stats)}"
                    f", baseline κ={held_base.kappa:.3f}. Development half (the rules were "
                    f"written against it): {summary_text(dev_stats)}, baseline "
                    f"κ={dev_base.kappa:.3f}; confusion {confusion_text(dev_stats)}."
                    f"{_NOTES[scorer]}{_ceiling_note(scorer, dev, held)}"
                ),
                confusions=_CONFUSIONS[scorer],
                baseline=baseline,
                baseline_kappa=held_base.kappa,
                **held_stats.model_dump(),
            )
        )
    return cards


def validate(source_dir: Path | None) -> list[ValidationCard]:
    """Re-compute the tutoring cards from MathDial (``source_dir`` holds a copy of the
    repository, else the file is downloaded and cached; offline: ``SourceUnavailable``)."""
    path = public_file(MATHDIAL_REPO, MATHDIAL_PATH, MATHDIAL_COMMIT, source_dir)
    return tutoring_cards(load_mathdial(path), dt.date.today().isoformat())
