"""Validate math answer scoring (extraction + comparison) against human judgments of real replies.

Data: ProcessBench (QwenLM/ProcessBench, ``dataset/gsm8k.json`` and ``dataset/math.json`` at
commit ``2f2fd8a``, Apache-2.0): solutions to GSM8K and MATH test problems written by twelve
open models (Qwen2/2.5, Llama-3/3.1, 1.5B-72B), each judged by doctoral-level experts until
three agreed on the index of its earliest wrong step (``label``; -1: every step correct). The
dataset also records ``final_answer_correct``, set by Qwen2.5-72B-Instruct against the reference
answer; the authors dropped every reply whose answer was wrong while the experts found no error.

The human verdict on a reply's final answer, as derived here:

- ``correct``: the experts found no wrong step (``label == -1``). They had the reference answer,
  so a reply all of whose steps are correct states the correct answer.
- ``incorrect``: the final answer was judged wrong (``final_answer_correct`` false) and the
  experts found a wrong step, which the authors required of every such reply. The answer check
  itself is a model's, corroborated by the experts' finding; the residual disagreements on this
  side are listed on the card and in ``docs/scorers.md`` with what they are.
- left out: replies with a wrong step and a correct answer (no one judged the answer).

The reply is the steps joined by blank lines; the gold answer comes from the project's eval sets
(the dataset mirror's ``gsm8k/test.jsonl`` and ``math/test.jsonl``, matched by problem text),
since ProcessBench does not carry it. The scorer is ``score_math_response`` with the problem
given, and math-verify for MATH, as a benchmark runs it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tutorlab.scoring.mathverify import MathVerifier
from tutorlab.scoring.validation.cards import ValidationCard, agreement_stats
from tutorlab.scoring.validation.sources import SourceUnavailable, public_file
from tutorlab.scoring.verdicts import MathKind, MathVerdict, score_math_response
from tutorlab.scoring.versions import SCORER_VERSION

__all__ = [
    "PROCESSBENCH_COMMIT",
    "PROCESSBENCH_REPO",
    "JudgedReply",
    "load_judged",
    "math_cards",
    "score_replies",
    "validate",
]

PROCESSBENCH_REPO = "QwenLM/ProcessBench"
#: the last commit that holds the data in the repository (it later moved to Hugging Face)
PROCESSBENCH_COMMIT = "2f2fd8ae590aeb949f7be265478b05280f93db68"
PROCESSBENCH_FILES: dict[MathKind, str] = {
    "gsm8k": "dataset/gsm8k.json",
    "math": "dataset/math.json",
}
LABELS = ("correct", "incorrect")
#: published "incorrect" verdicts reviewed by hand and found wrong: the reply's final answer has
#: the reference answer's value (that side of the verdict is a model's answer check). The card's
#: numbers keep them; its notes give the agreement with them set aside.
LABEL_ERRORS: dict[str, str] = {
    "gsm8k-70": "the boxed 59 is the reference answer",
    "gsm8k-74": "the boxed 2 (trips, rounded up) is the reference answer",
    "math-50": "the boxed 7 is the reference answer",
    "math-123": "411/333 = 137/111",
    "math-221": "23/2 = 11.5",
    "math-247": "-58/87 = -2/3",
    "math-248": "10.5π = 21π/2",
}
Label = Literal["correct", "incorrect"]


@dataclass(frozen=True, slots=True)
class JudgedReply:
    """One model reply with its gold answer and the human verdict on its final answer."""

    id: str
    generator: str
    problem: str
    reply: str
    gold: str
    human: Label


def _gsm8k_gold(answer: str) -> str:
    return answer.rsplit("####", 1)[1].strip().replace(",", "")


def _golds(kind: MathKind, mirror: Path) -> dict[str, str]:
    path = mirror / kind / "test.jsonl"
    if not path.is_file():
        raise SourceUnavailable(
            f"{path} not found: the gold answers come from the dataset mirror "
            "(set TUTORLAB_DATASET_MIRROR to a folder with gsm8k/ and math/)"
        )
    golds: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if kind == "gsm8k":
            golds[row["question"].strip()] = _gsm8k_gold(row["answer"])
        else:
            golds[row["problem"].strip()] = row["answer"]
    return golds


def load_judged(kind: MathKind, path: Path, mirror: Path) -> list[JudgedReply]:
    """The replies of one ProcessBench file that carry a human verdict (module docstring)."""
    golds = _golds(kind, mirror)
    rows = json.loads(path.read_text(encoding="utf-8"))
    judged: list[JudgedReply] = []
    for index, row in enumerate(rows):
        try:
            problem, label, answer_ok = row["problem"], row["label"], row["final_answer_correct"]
            steps = row["steps"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path} item {index}: missing field {exc}") from exc
        gold = golds.get(problem.strip())
        if gold is None:
            raise ValueError(f"{path} item {index} ({row.get('id')}): problem not in {kind}")
        if label == -1:
            human: Label = "correct"
        elif not answer_ok:
            human = "incorrect"
        else:
            continue  # a wrong step and a right answer: no one judged the answer
        judged.append(
            JudgedReply(
                id=str(row.get("id", index)),
                generator=str(row.get("generator", "")),
                problem=problem,
                reply="\n\n".join(steps),
                gold=gold,
                human=human,
            )
        )
    return judged


def score_replies(
    kind: MathKind, replies: Sequence[JudgedReply], verifier: MathVerifier | None
) -> list[MathVerdict]:
    """The scorer's verdict on each reply (math-verify for the pending MATH ones)."""
    verdicts = [score_math_response(r.gold, r.reply, kind=kind, problem=r.problem) for r in replies]
    pending = [i for i, v in enumerate(verdicts) if v.needs_verify]
    if pending:
        if verifier is None:
            raise ValueError(f"{len(pending)} {kind} replies need math-verify: pass a verifier")
        results = verifier.verify_many_sync(
            [
                (replies[i].gold, verdicts[i].equation_value or verdicts[i].extracted or "")
                for i in pending
            ]
        )
        for i, result in zip(pending, results, strict=True):
            verdicts[i] = verdicts[i].with_verify(result)
    return verdicts


def _scorer_label(verdict: MathVerdict) -> Label:
    return "correct" if verdict.correct else "incorrect"


def _disagreement(reply: JudgedReply, verdict: MathVerdict) -> str:
    reviewed = LABEL_ERRORS.get(reply.id)
    return (
        f"{reply.id} ({reply.generator}): human {reply.human}, scorer {_scorer_label(verdict)}; "
        f"gold {reply.gold!r}, extracted {verdict.extracted!r} by {verdict.rule}"
        + (f" [label error: {reviewed}]" if reviewed else "")
    )


def _notes(
    pairs: Sequence[tuple[str, str]],
    replies: Sequence[JudgedReply],
    verdicts: Sequence[MathVerdict],
) -> str:
    fallback = sum(v.fallback for v in verdicts)
    contradictory = sum(v.contradictory for v in verdicts)
    kept = [p for p, r in zip(pairs, replies, strict=True) if r.id not in LABEL_ERRORS]
    agree = sum(h == s for h, s in kept)
    return (
        f"{fallback} of {len(replies)} answers came from a fallback rule, {contradictory} "
        f"replies were contradictory. With the {len(pairs) - len(kept)} reviewed label errors "
        f"set aside: agreement {agree}/{len(kept)} = {agree / len(kept):.4f}."
    )


def math_cards(
    judged: dict[MathKind, list[JudgedReply]],
    verifier: MathVerifier | None,
    computed_at: str,
) -> list[ValidationCard]:
    """One card per kind: agreement of the scorer's ``correct`` with the human verdict."""
    cards = []
    for kind, replies in judged.items():
        verdicts = score_replies(kind, replies, verifier)
        pairs = [(r.human, _scorer_label(v)) for r, v in zip(replies, verdicts, strict=True)]
        stats = agreement_stats(pairs, labels=LABELS)
        cards.append(
            ValidationCard(
                scorer=kind,
                scorer_version=SCORER_VERSION,
                data=(
                    f"ProcessBench {PROCESSBENCH_FILES[kind]} ({PROCESSBENCH_REPO}@"
                    f"{PROCESSBENCH_COMMIT[:7]}): replies of 12 open models to {kind} test "
                    "problems; human verdict derived from three-expert step labels "
                    "(tutorlab.scoring.validation.math)"
                ),
                split="development",
                computed_at=computed_at,
                notes=_notes(pairs, replies, verdicts),
                confusions=[
                    _disagreement(r, v)
                    for r, v in zip(replies, verdicts, strict=True)
                    if r.human != _scorer_label(v)
                ],
                **stats.model_dump(),
            )
        )
    return cards


def _mirror() -> Path:
    default = Path(__file__).resolve().parents[5].parent / "shared" / "datasets"
    return Path(os.environ.get("TUTORLAB_DATASET_MIRROR", default))


def validate(source_dir: Path | None, mirror: Path | None = None) -> list[ValidationCard]:
    """Re-compute the GSM8K and MATH cards. ``source_dir`` holds a copy of ProcessBench's files
    (``dataset/gsm8k.json``, ``dataset/math.json``), else they are downloaded and cached
    (offline: ``SourceUnavailable``); ``mirror`` holds the gold answers (default: the dataset
    mirror, ``TUTORLAB_DATASET_MIRROR``)."""
    mirror = mirror or _mirror()
    judged = {
        kind: load_judged(
            kind, public_file(PROCESSBENCH_REPO, path, PROCESSBENCH_COMMIT, source_dir), mirror
        )
        for kind, path in PROCESSBENCH_FILES.items()
    }
    today = dt.date.today().isoformat()
    needs_verify = any(
        score_math_response(r.gold, r.reply, kind="math", problem=r.problem).needs_verify
        for r in judged["math"]
    )
    if not needs_verify:
        return math_cards(judged, None, today)
    with MathVerifier() as verifier:
        return math_cards(judged, verifier, today)
