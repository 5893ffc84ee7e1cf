"""Tutoring examples from GSM8K train, deterministic under a seed.

Per problem and mode (one example each):

- ``hint``: the student shows the problem (and, at a later step, their work so far); the tutor
  answers with the next guiding question. GSM8K's own Socratic sub-question is used when the
  record has one; otherwise the step's sentence with its computation blanked out
  (``Natalia sold ___ clips in May.``). Never the final answer: every hint is checked with
  :func:`tutorlab.scoring.answer_revealed` and :func:`tutorlab.scoring.guidance`.
- ``explain``: the idea behind the first calculation, worked on a parallel example with other
  numbers, ending with an invitation to try the student's own problem.
- ``check``: a student attempt with one wrong calculation (later steps carry the error along);
  the tutor quotes the first mistake and asks the student to redo it, without the corrected
  answer. A share of attempts is correct, and the tutor confirms them.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from tutorlab.scoring import answer_revealed, guidance

from data_service.builders.gsm8k_steps import (
    Step,
    format_number,
    main_operation,
    pretty_expression,
    solution_steps,
    with_wrong_values,
)

BUILDER_VERSION = "socratic/1"
MODES: tuple[str, ...] = ("hint", "explain", "check")


@dataclass(frozen=True)
class Problem:
    """What a builder needs of one GSM8K record (plus its tags)."""

    id: str
    question: str
    solution: str
    answer: str
    grade: int
    topic_tags: tuple[str, ...]
    subquestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class TutorExample:
    """One tutoring turn: what the student said, in which mode, and the tutor's reply."""

    mode: str
    message: str
    response: str
    grade: int
    topic_tags: tuple[str, ...]
    source_id: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class BuildReport:
    problems: int = 0
    examples: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "problems": self.problems,
            "examples": dict(sorted(self.examples.items())),
            "skipped": dict(sorted(self.skipped.items())),
        }


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


# --- hint ------------------------------------------------------------------------------------

_HINT_OPENERS = (
    "I'm stuck on this problem: ",
    "Can you help me get started? ",
    "",
    "I don't know where to begin. ",
)
_HINT_FIRST = (
    "Let's take it one step at a time. Think about this first: “{blank}” Which numbers from the "
    "problem do you need to fill in the blank, and what will you do with them?",
    "Good idea to start with one piece. Look at this sentence: “{blank}” How could you find the "
    "missing number?",
    "Start with the first part: “{blank}” What do you need to do with the numbers in the problem "
    "to fill in that blank?",
)
_HINT_NEXT = (
    "Nice work so far. Now the next step: “{blank}” How can you use what you found to fill in "
    "the blank?",
    "You're on the right track. Next, think about this: “{blank}” What goes in the blank, and "
    "how do you get it?",
)
_SUBQ_FIRST = (
    "Let's break the problem into smaller questions. First: {question}",
    "Good question to ask for help with! Start here: {question}",
)
_SUBQ_NEXT = (
    "Good progress. Next question: {question}",
    "That part looks right. Now: {question}",
)


def _hint(problem: Problem, steps: Sequence[Step], rng: random.Random) -> TutorExample | None:
    calc = [i for i, s in enumerate(steps) if s.is_calculation]
    if not calc:
        return None
    # the first step half of the time, else a later one (the student has done the ones before)
    position = 0 if rng.random() < 0.5 or len(calc) == 1 else rng.choice(calc[1:])
    index = calc[0] if position == 0 else position
    done = [s.text for s in steps[:index]]
    subq = problem.subquestions[index] if index < len(problem.subquestions) else None
    if subq and subq.rstrip().endswith("?"):
        templates: Sequence[str] = _SUBQ_FIRST if not done else _SUBQ_NEXT
        response = rng.choice(templates).format(question=subq.strip())
        style = "socratic_subquestion"
    else:
        blank = steps[index].blanked
        if not blank:
            return None
        templates = _HINT_FIRST if not done else _HINT_NEXT
        response = rng.choice(templates).format(blank=blank)
        style = "blanked_step"
    if done:
        work = "\n".join(done)
        message = (
            f"{problem.question}\n\nHere's what I have so far:\n{work}\nWhat should I do next?"
        )
    else:
        message = rng.choice(_HINT_OPENERS) + problem.question
    return TutorExample(
        "hint",
        message,
        response,
        problem.grade,
        problem.topic_tags,
        problem.id,
        {"step": index + 1, "steps": len(steps), "hint_style": style},
    )


# --- explain ---------------------------------------------------------------------------------

_EXPLAIN_OPENERS = (
    "I don't understand how to solve this: ",
    "Can you explain how to start this problem? ",
    "What does this problem want me to do? ",
)
_CONCEPTS: dict[str, tuple[str, ...]] = {
    "+": (
        "When amounts are put together, we add them. For example, if a shelf has {a} books and "
        "you put {b} more on it, there are {a} + {b} = {s} books on the shelf.",
        "Adding finds a total. Say a class has {a} girls and {b} boys: altogether there are "
        "{a} + {b} = {s} students.",
    ),
    "-": (
        "When something is taken away, or we compare two amounts, we subtract. For example, if "
        "you have {s} stickers and give away {b}, you have {s} - {b} = {a} stickers left.",
        "Subtracting finds what is left or how much more. If a rope is {s} cm long and you cut "
        "off {b} cm, {s} - {b} = {a} cm remain.",
    ),
    "*": (
        "When there are equal groups, we multiply. For example, {a} boxes with {b} pencils in "
        "each hold {a} × {b} = {p} pencils.",
        "Multiplying is a quick way to add the same number again and again: {a} rows of {b} "
        "chairs make {a} × {b} = {p} chairs.",
    ),
    "/": (
        "When something is shared equally or split into equal groups, we divide. For example, "
        "{p} cookies shared by {a} friends gives each friend {p} ÷ {a} = {b} cookies.",
        "Dividing tells how many are in each equal group. If {p} apples go into bags of {b}, you "
        "fill {p} ÷ {b} = {a} bags.",
    ),
}
_EXPLAIN_BRIDGE = (
    "Now look at your problem: which amounts are being {verb}? Try that first step yourself.",
    "In your problem, find the amounts that need to be {verb}. What do you get when you try?",
)
_VERBS = {"+": "added", "-": "subtracted", "*": "multiplied", "/": "divided"}


def _explain(
    problem: Problem, steps: Sequence[Step], rng: random.Random, tries: int = 10
) -> TutorExample | None:
    first = next((s for s in steps if s.is_calculation), None)
    if first is None or first.expression is None:
        return None
    op = main_operation(first.expression)
    if op is None:
        return None
    context = [problem.question]
    for _ in range(tries):
        a, b = rng.randint(2, 12), rng.randint(2, 12)
        values = {"a": a, "b": b, "s": a + b, "p": a * b}
        concept = rng.choice(_CONCEPTS[op]).format(**values)
        response = f"{concept} {rng.choice(_EXPLAIN_BRIDGE).format(verb=_VERBS[op])}"
        if not answer_revealed(response, problem.answer, context):
            return TutorExample(
                "explain",
                rng.choice(_EXPLAIN_OPENERS) + problem.question,
                response,
                problem.grade,
                problem.topic_tags,
                problem.id,
                {"operation": op, "parallel_example": values},
            )
    return None


# --- check -----------------------------------------------------------------------------------

_CHECK_ASKS = (
    "Can you check my work?",
    "Is this right?",
    "Did I do this correctly?",
)
_CHECK_WRONG = (
    "Let's look at your work together. {praise}The first mistake is in this step: “{line}” "
    "Check {expr} again. What do you get when you work it out carefully?",
    "Good effort, and thank you for showing your steps. {praise}Something goes wrong here: "
    "“{line}” Try {expr} once more: what is it really?",
)
_CHECK_RIGHT = (
    "Yes, that's right! Each step follows from the one before, and you showed your work "
    "clearly. Can you think of a quick way to check the answer, for example by estimating?",
    "Well done: your reasoning is correct in every step. How could you check it another way?",
)


def _wrong_values(step: Step, rng: random.Random) -> list[Fraction]:
    assert step.result is not None
    r = step.result
    options = [r + 1, r - 1, r + 2, r + 10, r - 10, r * 10]
    rng.shuffle(options)
    return [v for v in options if v != r and (v > 0 or r <= 0)]


def _check(
    problem: Problem, steps: Sequence[Step], rng: random.Random, correct_share: float
) -> TutorExample | None:
    calc = [i for i, s in enumerate(steps) if s.is_calculation]
    if not calc:
        return None
    gold = Fraction(problem.answer) if _is_number(problem.answer) else None
    if rng.random() < correct_share:
        work = "\n".join(s.text for s in steps)
        message = (
            f"{problem.question}\n\nMy work:\n{work}\nSo the answer is {problem.answer}. "
            f"{rng.choice(_CHECK_ASKS)}"
        )
        return TutorExample(
            "check",
            message,
            rng.choice(_CHECK_RIGHT),
            problem.grade,
            problem.topic_tags,
            problem.id,
            {"attempt": "correct"},
        )
    candidates = list(calc)
    rng.shuffle(candidates)
    for first in candidates:
        step = steps[first]
        for wrong in _wrong_values(step, rng)[:3]:
            lines = with_wrong_values(steps, first, wrong)
            if lines is None:
                break
            final = next((v for _, v in reversed(lines) if v is not None), None)
            if final is None or (gold is not None and final == gold):
                continue
            work = "\n".join(text for text, _ in lines)
            message = (
                f"{problem.question}\n\nMy work:\n{work}\nSo the answer is {format_number(final)}."
                f" {rng.choice(_CHECK_ASKS)}"
            )
            correct_before = sum(1 for i in calc if i < first)
            praise = (
                f"Your first {'step is' if correct_before == 1 else f'{correct_before} steps are'}"
                " correct. "
                if correct_before
                else ""
            )
            expr = pretty_expression(step.expression or "")
            response = rng.choice(_CHECK_WRONG).format(
                praise=praise, line=lines[first][0], expr=expr
            )
            if answer_revealed(response, problem.answer, [problem.question, message]):
                continue
            return TutorExample(
                "check",
                message,
                response,
                problem.grade,
                problem.topic_tags,
                problem.id,
                {
                    "attempt": "wrong",
                    "mistake_step": first + 1,
                    "wrong_value": format_number(wrong),
                    "stated_answer": format_number(final),
                },
            )
    return None


def _is_number(text: str) -> bool:
    try:
        Fraction(text.replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return False
    return True


# --- the builder -----------------------------------------------------------------------------


def hint_is_clean(example: TutorExample, gold: str, question: str) -> bool:
    """No final answer in the reply, one guiding question, no worked solution.

    Only the problem counts as context: a number the student's own work already holds is still
    not repeated back when it is the final answer.
    """
    if answer_revealed(example.response, gold, [question]):
        return False
    verdict = guidance(example.response, [question])
    return verdict.asks_question and verdict.steps <= 1 and not verdict.full_solution


def build_examples(
    problems: Iterable[Problem],
    *,
    seed: int,
    modes: Sequence[str] = MODES,
    check_correct_share: float = 0.2,
) -> tuple[list[TutorExample], BuildReport]:
    """Examples for every problem and mode, in input order; deterministic for a seed."""
    unknown = set(modes) - set(MODES)
    if unknown:
        raise ValueError(f"modes: unknown {sorted(unknown)} (known: {list(MODES)})")
    report = BuildReport()
    examples: list[TutorExample] = []
    for problem in problems:
        report.problems += 1
        steps = solution_steps(problem.solution)
        for mode in modes:
            rng = _rng(seed, problem.id, mode)
            example: TutorExample | None
            if mode == "hint":
                example = _hint(problem, steps, rng)
                if example is not None and not hint_is_clean(
                    example, problem.answer, problem.question
                ):
                    report.skipped["hint: failed the no-answer / one-question check"] += 1
                    continue
            elif mode == "explain":
                example = _explain(problem, steps, rng)
            else:
                example = _check(problem, steps, rng, check_correct_share)
            if example is None:
                report.skipped[f"{mode}: no usable calculation step"] += 1
                continue
            report.examples[mode] += 1
            examples.append(example)
    return examples, report
