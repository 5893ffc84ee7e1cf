"""The versioned topic taxonomy (``taxonomy.yaml``): typed objects, a loader and its checks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

GRADE_MIN, GRADE_MAX = 1, 12
MATH_SUBJECTS: tuple[str, ...] = (
    "Algebra",
    "Counting & Probability",
    "Geometry",
    "Intermediate Algebra",
    "Number Theory",
    "Prealgebra",
    "Precalculus",
)
DEFAULT_TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yaml")

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_KEYWORD_RE = re.compile(r"^[a-z0-9]+(?:['-][a-z0-9]+)*(?: [a-z0-9]+(?:['-][a-z0-9]+)*)*$")


class TaxonomyError(ValueError):
    """The taxonomy file is invalid; ``problems`` lists every issue found."""

    def __init__(self, problems: list[str], source: str = "taxonomy") -> None:
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s): " + "; ".join(problems))


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    grade_min: int
    grade_max: int
    keywords: tuple[str, ...] = ()
    weak_keywords: tuple[str, ...] = ()

    @property
    def parent_id(self) -> str | None:
        return self.id.rsplit(".", 1)[0] if "." in self.id else None

    @property
    def depth(self) -> int:
        return self.id.count(".") + 1

    @property
    def grades(self) -> tuple[int, int]:
        return (self.grade_min, self.grade_max)


@dataclass(frozen=True)
class SubjectMapping:
    """Where one MATH subject lives in the taxonomy."""

    subject: str
    primary: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    version: str
    topics: tuple[Topic, ...]
    math_subjects: Mapping[str, SubjectMapping]
    math_level_grades: Mapping[int, int]
    _by_id: dict[str, Topic] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {t.id: t for t in self.topics})

    def __contains__(self, topic_id: object) -> bool:
        return topic_id in self._by_id

    def __len__(self) -> int:
        return len(self.topics)

    def get(self, topic_id: str) -> Topic:
        try:
            return self._by_id[topic_id]
        except KeyError:
            raise KeyError(f"unknown topic id {topic_id!r}") from None

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.topics]

    def children(self, topic_id: str) -> list[Topic]:
        return [t for t in self.topics if t.parent_id == topic_id]

    def ancestors(self, topic_id: str) -> list[str]:
        """Ids of the topic's ancestors, nearest first."""
        parts = topic_id.split(".")
        return [".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]

    @staticmethod
    def covers(topic_id: str, tag: str) -> bool:
        """True when ``tag`` is ``topic_id`` or one of its descendants."""
        return tag == topic_id or tag.startswith(topic_id + ".")

    def subject_mapping(self, subject: str) -> SubjectMapping | None:
        """The mapping of a MATH subject, by its label ("Counting & Probability") or its slug
        ("counting_and_probability", as in MATH's file paths); None when unknown."""
        key = subject_slug(subject)
        for name, mapping in self.math_subjects.items():
            if subject_slug(name) == key:
                return mapping
        return None

    def subject_covers(self, subject: str, tags: Iterable[str]) -> bool:
        """True when any of ``tags`` lies under a topic the MATH subject maps to."""
        mapping = self.subject_mapping(subject)
        if mapping is None:
            raise KeyError(f"unknown MATH subject {subject!r}")
        return any(self.covers(t, tag) for tag in tags for t in mapping.topics)


def subject_slug(subject: str) -> str:
    """Normalize a MATH subject label: lower case, '&' as 'and', other symbols as '_'."""
    text = subject.strip().lower().replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _str_list(value: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: must be a list of strings")
        return ()
    return tuple(value)


def _check_keywords(topic_where: str, words: Iterable[str], problems: list[str]) -> None:
    seen: set[str] = set()
    for word in words:
        if not _KEYWORD_RE.match(word):
            problems.append(
                f"{topic_where}: keyword {word!r} must be lower-case words (letters, digits, "
                "'-' or \"'\") separated by single spaces"
            )
        if word in seen:
            problems.append(f"{topic_where}: keyword {word!r} listed twice")
        seen.add(word)


def parse_taxonomy(data: Any, source: str = "taxonomy") -> Taxonomy:
    """Build a :class:`Taxonomy` from parsed YAML, checking everything; raises TaxonomyError."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise TaxonomyError(["top level must be a mapping"], source)
    version = data.get("version")
    if not isinstance(version, str | int | float) or isinstance(version, bool) or not str(version):
        problems.append("version: required (a string such as '1.0.0')")
    raw_topics = data.get("topics")
    if not isinstance(raw_topics, list) or not raw_topics:
        raise TaxonomyError([*problems, "topics: must be a non-empty list"], source)

    topics: list[Topic] = []
    seen_ids: set[str] = set()
    for i, raw in enumerate(raw_topics):
        where = f"topics[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        unknown = set(raw) - {"id", "name", "grades", "keywords", "weak_keywords"}
        if unknown:
            problems.append(f"{where}: unknown field(s) {sorted(unknown)}")
        topic_id = raw.get("id")
        if not isinstance(topic_id, str) or not _ID_RE.match(topic_id):
            problems.append(f"{where}.id: {topic_id!r} is not a dotted lower-case id")
            continue
        where = f"topics[{i}] ({topic_id})"
        if topic_id in seen_ids:
            problems.append(f"{where}: duplicate id")
        seen_ids.add(topic_id)
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}.name: required")
            name = topic_id
        grades = raw.get("grades")
        if (
            not isinstance(grades, list)
            or len(grades) != 2
            or not all(isinstance(g, int) and not isinstance(g, bool) for g in grades)
        ):
            problems.append(f"{where}.grades: must be [min, max] integers")
            grades = [GRADE_MIN, GRADE_MAX]
        lo, hi = grades
        if not (GRADE_MIN <= lo <= GRADE_MAX and GRADE_MIN <= hi <= GRADE_MAX):
            problems.append(f"{where}.grades: {grades} outside {GRADE_MIN}..{GRADE_MAX}")
        if lo > hi:
            problems.append(f"{where}.grades: min {lo} > max {hi}")
        keywords = _str_list(raw.get("keywords"), f"{where}.keywords", problems)
        weak = _str_list(raw.get("weak_keywords"), f"{where}.weak_keywords", problems)
        _check_keywords(where, (*keywords, *weak), problems)
        topics.append(Topic(topic_id, name, lo, hi, keywords, weak))

    by_id = {t.id: t for t in topics}
    for topic in topics:
        parent_id = topic.parent_id
        if parent_id is None:
            continue
        parent = by_id.get(parent_id)
        if parent is None:
            problems.append(f"{topic.id}: parent {parent_id!r} is not defined")
        elif not (parent.grade_min <= topic.grade_min and topic.grade_max <= parent.grade_max):
            problems.append(
                f"{topic.id}: grades {list(topic.grades)} not inside parent's {list(parent.grades)}"
            )

    subjects = _parse_subjects(data.get("math_subjects"), by_id, problems)
    levels = _parse_levels(data.get("math_level_grades"), problems)
    if problems:
        raise TaxonomyError(problems, source)
    return Taxonomy(str(version), tuple(topics), subjects, levels)


def _parse_subjects(
    raw: Any, by_id: Mapping[str, Topic], problems: list[str]
) -> dict[str, SubjectMapping]:
    if not isinstance(raw, dict):
        problems.append("math_subjects: must map each MATH subject to {primary, topics}")
        return {}
    missing = [s for s in MATH_SUBJECTS if s not in raw]
    if missing:
        problems.append(f"math_subjects: missing {missing}")
    result: dict[str, SubjectMapping] = {}
    for subject, spec in raw.items():
        where = f"math_subjects.{subject}"
        if subject not in MATH_SUBJECTS:
            problems.append(f"{where}: not a MATH subject (expected one of {list(MATH_SUBJECTS)})")
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be a mapping with primary and topics")
            continue
        primary = spec.get("primary")
        topics = _str_list(spec.get("topics"), f"{where}.topics", problems)
        if not topics:
            problems.append(f"{where}.topics: must list at least one topic")
        for topic_id in (primary, *topics):
            if topic_id not in by_id:
                problems.append(f"{where}: unknown topic {topic_id!r}")
        if isinstance(primary, str) and not any(Taxonomy.covers(t, primary) for t in topics):
            problems.append(f"{where}.primary: {primary!r} is not under any of its topics")
        if isinstance(primary, str):
            result[str(subject)] = SubjectMapping(str(subject), primary, topics)
    return result


def _parse_levels(raw: Any, problems: list[str]) -> dict[int, int]:
    if not isinstance(raw, dict) or set(raw) != {1, 2, 3, 4, 5}:
        problems.append("math_level_grades: must map each MATH level 1..5 to a grade")
        return {}
    levels: dict[int, int] = {}
    for level, grade in raw.items():
        if not isinstance(grade, int) or not GRADE_MIN <= grade <= GRADE_MAX:
            problems.append(f"math_level_grades.{level}: grade {grade!r} outside 1..12")
        else:
            levels[level] = grade
    return levels


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load and check a taxonomy file (the packaged ``taxonomy.yaml`` by default, cached)."""
    if path is None:
        return _default_taxonomy()
    return _load(Path(path))


def _load(path: Path) -> Taxonomy:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TaxonomyError([f"invalid YAML: {exc}"], str(path)) from exc
    return parse_taxonomy(data, str(path))


@lru_cache(maxsize=1)
def _default_taxonomy() -> Taxonomy:
    return _load(DEFAULT_TAXONOMY_PATH)
