"""Read TutorLab's own evaluation sets, shipped as JSONL files inside this package.

Tutoring items reference GSM8K/MATH test problems by id only; the problem text and the gold
answer are joined at load time from records the caller supplies (the datasets are never
committed). Every file is validated line by line; a bad line raises ``ValueError`` naming the
file, the line number and the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from tutorlab.datasets.records import DatasetRecord

PACKAGE = "eval_service.evalsets"
TUTORING_FILE = "tutoring.jsonl"
SAFETY_FILE = "safety.jsonl"
OVER_REFUSAL_FILE = "over_refusal.jsonl"
MANIFEST_FILE = "manifest.json"
DATA_FILES = (TUTORING_FILE, SAFETY_FILE, OVER_REFUSAL_FILE)

PROBLEM_PLACEHOLDER = "{problem}"

TutoringCategory = Literal[
    "ask_help", "ask_answer", "wrong_attempt", "partial_progress", "check_my_answer_correct"
]
TutoringBehavior = Literal[
    "guide_without_revealing",
    "withhold_answer_and_guide",
    "locate_first_mistake_without_revealing",
    "confirm_progress_and_hint_next_step",
    "confirm_and_praise",
]
TutoringMode = Literal["hint", "check", "explain"]
SafetyCategory = Literal[
    "self_harm",
    "violence_weapons",
    "sexual_content",
    "hate_harassment",
    "drugs_alcohol",
    "personal_data",
    "dangerous_activities",
    "jailbreak_roleplay",
    "academic_dishonesty_offtopic",
]
SafetyBehavior = Literal["refuse", "redirect", "refuse_and_support"]
OverRefusalCategory = Literal[
    "violent_idioms",
    "computing_terms",
    "weapons_history",
    "medicine_dosage",
    "chemistry_alcohol",
    "gambling_probability",
    "body_health",
    "crime_disaster_stats",
]

#: the one expected behaviour of each tutoring category
TUTORING_BEHAVIOR: dict[str, str] = {
    "ask_help": "guide_without_revealing",
    "ask_answer": "withhold_answer_and_guide",
    "wrong_attempt": "locate_first_mistake_without_revealing",
    "partial_progress": "confirm_progress_and_hint_next_step",
    "check_my_answer_correct": "confirm_and_praise",
}
#: tutoring categories whose student message carries a final answer
ATTEMPT_CATEGORIES = frozenset({"wrong_attempt", "check_my_answer_correct"})

_FRAC = re.compile(r"^(-?)\\[dt]?frac\{(-?\d+)\}\{(\d+)\}$")
_PLAIN = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)(/\d+)?$")


def numeric_value(text: str) -> Fraction | None:
    """The exact value of a plain number (``-3``, ``2.5``, ``1,600``, ``3/4``, ``\\frac{3}{4}``).

    Returns ``None`` for anything else (expressions, units, words) or a zero denominator.
    """
    s = text.strip().replace(",", "").replace("$", "").replace(" ", "")
    match = _FRAC.match(s)
    if match is not None:
        sign, num, den = match.groups()
        if int(den) == 0:
            return None
        value = Fraction(int(num), int(den))
        return -value if sign else value
    if not _PLAIN.match(s):
        return None
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    category: str
    note: str = Field(min_length=1)


class TutoringEntry(_Item):
    """One tutoring line as stored: a student turn about a referenced benchmark problem."""

    id: str = Field(pattern=r"^tut-\d{4}$")
    source_id: str = Field(pattern=r"^(gsm8k-test-\d{5}|test/[a-z_]+/\d+\.json)$")
    category: TutoringCategory
    mode: TutoringMode
    grade: int = Field(ge=1, le=12)
    expected_behavior: TutoringBehavior
    student_message_template: str = Field(min_length=len(PROBLEM_PLACEHOLDER))
    student_answer: str | None
    note: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> TutoringEntry:
        count = self.student_message_template.count(PROBLEM_PLACEHOLDER)
        if count != 1:
            raise ValueError(
                f"student_message_template must contain {PROBLEM_PLACEHOLDER} exactly once "
                f"(found {count})"
            )
        expected = TUTORING_BEHAVIOR[self.category]
        if self.expected_behavior != expected:
            raise ValueError(
                f"expected_behavior {self.expected_behavior!r} does not fit category "
                f"{self.category!r} (want {expected!r})"
            )
        if self.category in ATTEMPT_CATEGORIES:
            if self.student_answer is None or numeric_value(self.student_answer) is None:
                raise ValueError(f"student_answer must be a number for category {self.category}")
        elif self.student_answer is not None:
            raise ValueError(f"student_answer must be null for category {self.category}")
        return self

    @property
    def source_dataset(self) -> str:
        """``gsm8k`` or ``math``: which benchmark the problem comes from."""
        return "gsm8k" if self.source_id.startswith("gsm8k-") else "math"


class TutoringItem(TutoringEntry):
    """A tutoring entry joined with its problem: text, gold answer and the rendered message."""

    problem: str = Field(min_length=1)
    gold: str = Field(min_length=1)
    student_message: str = Field(min_length=1)


class SafetyItem(_Item):
    """A message a child might send that the tutor must refuse or redirect."""

    id: str = Field(pattern=r"^saf-\d{4}$")
    category: SafetyCategory
    prompt: str = Field(min_length=1)
    expected_behavior: SafetyBehavior
    math_framed: bool
    note: str = Field(min_length=1)

    @model_validator(mode="after")
    def _support_for_self_harm(self) -> SafetyItem:
        if (self.category == "self_harm") != (self.expected_behavior == "refuse_and_support"):
            raise ValueError(
                "expected_behavior 'refuse_and_support' is used for, and only for, self_harm"
            )
        return self


class OverRefusalItem(_Item):
    """A benign question that only looks risky; the tutor must answer it."""

    id: str = Field(pattern=r"^ovr-\d{4}$")
    category: OverRefusalCategory
    prompt: str = Field(min_length=1)
    expected_behavior: Literal["comply"]
    gold: str | None
    note: str = Field(min_length=1)

    @model_validator(mode="after")
    def _gold_is_number(self) -> OverRefusalItem:
        if self.gold is not None and numeric_value(self.gold) is None:
            raise ValueError(f"gold {self.gold!r} is not a plain number")
        return self


class ManifestFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    count: int = Field(ge=0)
    categories: dict[str, int]
    sources: dict[str, int] | None = None


class Manifest(BaseModel):
    """``manifest.json``: the sets' version and, per file, checksum and counts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1)
    files: dict[str, ManifestFile]


T = TypeVar("T", bound=_Item)


def read_jsonl(text: str, model: type[T], source: str) -> list[T]:
    """Parse JSONL ``text`` into ``model`` items; errors name ``source``, line and field."""
    items: list[T] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        where = f"{source} line {lineno}"
        if not line.strip():
            raise ValueError(f"{where}: blank line")
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: invalid JSON: {exc.msg}") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: expected a JSON object")
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "item"
            item_id = raw.get("id", "?")
            raise ValueError(f"{where} (id {item_id}): {field}: {first['msg']}") from None
        if item.id in seen:
            raise ValueError(f"{where}: duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = lineno
        items.append(item)
    return items


def _read_bytes(name: str) -> bytes:
    return resources.files(PACKAGE).joinpath(name).read_bytes()


def _read(name: str, model: type[T]) -> tuple[bytes, list[T]]:
    data = _read_bytes(name)
    return data, read_jsonl(data.decode("utf-8"), model, name)


@lru_cache(maxsize=1)
def _tutoring_entries() -> tuple[TutoringEntry, ...]:
    return tuple(_read(TUTORING_FILE, TutoringEntry)[1])


@lru_cache(maxsize=1)
def _safety_items() -> tuple[SafetyItem, ...]:
    return tuple(_read(SAFETY_FILE, SafetyItem)[1])


@lru_cache(maxsize=1)
def _over_refusal_items() -> tuple[OverRefusalItem, ...]:
    return tuple(_read(OVER_REFUSAL_FILE, OverRefusalItem)[1])


def categories_of(items: Iterable[_Item]) -> dict[str, int]:
    """How many items fall in each category, sorted by category name."""
    return dict(sorted(Counter(item.category for item in items).items()))


@lru_cache(maxsize=1)
def load_manifest() -> Manifest:
    """The shipped ``manifest.json``."""
    return Manifest.model_validate_json(_read_bytes(MANIFEST_FILE))


def compute_manifest(version: str) -> Manifest:
    """The manifest the shipped data files imply (checksums, counts, categories, sources)."""
    tutoring_data, tutoring = _read(TUTORING_FILE, TutoringEntry)
    safety_data, safety = _read(SAFETY_FILE, SafetyItem)
    over_data, over = _read(OVER_REFUSAL_FILE, OverRefusalItem)
    sources = dict(sorted(Counter(e.source_dataset for e in tutoring).items()))
    files = {
        TUTORING_FILE: _manifest_entry(tutoring_data, tutoring, sources),
        SAFETY_FILE: _manifest_entry(safety_data, safety),
        OVER_REFUSAL_FILE: _manifest_entry(over_data, over),
    }
    return Manifest(version=version, files=files)


def _manifest_entry(
    data: bytes, items: list[T], sources: dict[str, int] | None = None
) -> ManifestFile:
    return ManifestFile(
        sha256=hashlib.sha256(data).hexdigest(),
        count=len(items),
        categories=categories_of(items),
        sources=sources,
    )


def verify_manifest() -> None:
    """Raise ``ValueError`` naming every file whose checksum or counts differ from the manifest."""
    stored = load_manifest()
    actual = compute_manifest(stored.version)
    problems = [
        f"{name}: manifest says {stored.files.get(name)}, the file gives {entry}"
        for name, entry in actual.files.items()
        if stored.files.get(name) != entry
    ]
    problems += [
        f"{name}: listed in the manifest but not shipped"
        for name in sorted(stored.files.keys() - actual.files.keys())
    ]
    if problems:
        raise ValueError("evalset manifest out of date: " + "; ".join(problems))


def load_tutoring_entries() -> list[TutoringEntry]:
    """The tutoring lines as stored, without problem text or gold answer."""
    return list(_tutoring_entries())


def tutoring_source_ids() -> set[str]:
    """Every GSM8K/MATH id the tutoring set references (what ``load_tutoring`` needs)."""
    return {e.source_id for e in _tutoring_entries()}


def load_tutoring(problems: Mapping[str, DatasetRecord]) -> list[TutoringItem]:
    """Tutoring items joined with their problems, looked up by ``source_id`` in ``problems``.

    Raises ``ValueError`` naming the item when its problem is missing or has no gold answer.
    """
    items: list[TutoringItem] = []
    for entry in _tutoring_entries():
        record = problems.get(entry.source_id)
        if record is None:
            raise ValueError(
                f"tutoring item {entry.id}: source_id {entry.source_id!r} is not among the "
                f"{len(problems)} problems given"
            )
        if record.answer is None or not record.answer.strip():
            raise ValueError(
                f"tutoring item {entry.id}: problem {entry.source_id!r} has no gold answer"
            )
        items.append(
            TutoringItem(
                **entry.model_dump(),
                problem=record.question,
                gold=record.answer,
                student_message=entry.student_message_template.replace(
                    PROBLEM_PLACEHOLDER, record.question
                ),
            )
        )
    return items


def load_safety() -> list[SafetyItem]:
    """The safety prompts (refuse / redirect / refuse_and_support)."""
    return list(_safety_items())


def load_over_refusal() -> list[OverRefusalItem]:
    """Benign prompts that only look risky (expected: comply)."""
    return list(_over_refusal_items())
