"""Deterministic rule tagger: topic tags and a grade for a math problem.

Cues, each with a weight (the tables are in :mod:`~tutorlab.curriculum.tagging.rules`): taxonomy
keywords; number kinds in the text (negative, decimal, fraction, percent, money, clock time);
GSM8K calculator annotations (``<<a*b=c>>``); LaTeX commands (``\\frac``, ``\\sqrt``, ``\\log``,
``\\sin``, matrices, ``\\binom``, ``\\pmod`` ...). Cues found in the solution count
``SOLUTION_WEIGHT`` as much as cues in the question. The grade comes from the grade bands of the
strongest topics and the problem's complexity (calculation steps, number magnitudes), unless
pinned by the caller. See docs/taxonomy.md.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tutorlab.curriculum.tagging.rules import (
    ANCHOR_RELATIVE,
    CALC_DECIMAL,
    CALC_NEGATIVE,
    CALC_OPS,
    CALC_PERCENT,
    CUE_DECAY,
    DATASET_GRADES,
    MATH_DATASETS,
    MATH_RULES,
    MAX_TAGS,
    MIN_SCORE,
    NUMERIC_OPS,
    NUMERIC_POWER,
    RELATIVE_MIN,
    RULES_VERSION,
    SOLUTION_WEIGHT,
    STRONG_KEYWORD_WEIGHT,
    TEXT_RULES,
    WEAK_KEYWORD_WEIGHT,
    WEAK_ONLY_CAP,
)
from tutorlab.curriculum.tagging.text import (
    Prepared,
    has_variable,
    inflections,
    looks_like_latex,
    prepare,
    trie_pattern,
)
from tutorlab.curriculum.taxonomy import GRADE_MAX, GRADE_MIN, Taxonomy, load_taxonomy
from tutorlab.datasets.records import DatasetRecord

GradeSource = Literal["pinned", "estimated"]


class TagResult(BaseModel):
    """A problem's topic tags (most relevant first) and grade, with the cues behind each tag;
    ``tagger_version`` names the rules and taxonomy that made them, so stored tags can be told
    apart from tags a newer tagger would give."""

    model_config = ConfigDict(frozen=True)

    topic_tags: list[str]
    grade: int
    grade_source: GradeSource
    evidence: dict[str, list[str]]
    scores: dict[str, float]
    tagger_version: str


# ------------------------------------------------------------------ scoring


class _Scores:
    def __init__(self) -> None:
        self.cues: dict[str, dict[str, list[float]]] = defaultdict(dict)

    def add(self, topic: str, label: str, weight: float, count: int = 1) -> None:
        entry = self.cues[topic].get(label)
        if entry is None:
            self.cues[topic][label] = [weight, count]
        else:
            entry[0] = max(entry[0], weight)
            entry[1] += count

    def totals(self) -> dict[str, float]:
        """Per topic: cue weights, largest first, each worth CUE_DECAY times the one before; a
        cue seen again adds a quarter of its weight (up to four times). Weak keywords alone
        never make a tag: such a topic scores at most WEAK_ONLY_CAP."""
        out: dict[str, float] = {}
        for topic, cues in self.cues.items():
            values = sorted(
                (w * (1 + 0.25 * min(n - 1, 4)) for w, n in cues.values()), reverse=True
            )
            total = sum(v * CUE_DECAY**i for i, v in enumerate(values))
            if all("weak keyword" in label for label in cues):
                total = min(total, WEAK_ONLY_CAP)
            out[topic] = total
        return out


@dataclass(frozen=True)
class _Features:
    steps: int
    max_number: float


class RuleTagger:
    """Keyword/regex tagger over one taxonomy; build once, call :meth:`tag` many times."""

    def __init__(self, taxonomy: Taxonomy | None = None) -> None:
        self.taxonomy = taxonomy or load_taxonomy()
        self.version = f"rules-{RULES_VERSION}+taxonomy-{self.taxonomy.version}"
        self._phrases: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
        for topic in self.taxonomy.topics:
            for weight, words in (
                (STRONG_KEYWORD_WEIGHT, topic.keywords),
                (WEAK_KEYWORD_WEIGHT, topic.weak_keywords),
            ):
                for phrase in words:
                    for form in inflections(phrase):
                        entries = self._phrases[form]
                        if not any(e[0] == topic.id and e[1] >= weight for e in entries):
                            entries[:] = [e for e in entries if e[0] != topic.id]
                            entries.append((topic.id, weight, phrase))
        self._keyword_re = re.compile(
            r"(?<![a-z0-9])(" + trie_pattern(sorted(self._phrases)) + r")(?![a-z0-9])"
        )
        unknown = {r.topic for r in (*TEXT_RULES, *MATH_RULES)} - set(self.taxonomy.ids)
        unknown |= set(NUMERIC_OPS) - set(self.taxonomy.ids)
        if unknown:
            raise ValueError(f"tagger rules name topics missing from the taxonomy: {unknown}")

    # -------------------------------------------------------------- public

    def tag(
        self,
        question: str,
        solution: str | None = None,
        *,
        grade: int | None = None,
        dataset: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> TagResult:
        """Topic tags (most relevant first) and a grade for one problem: cues from the question,
        the solution (weaker) and calculation notes; MATH metadata (``subject``, ``level``) when
        given; ``grade`` pins the grade instead of estimating it."""
        _check_inputs(question, grade)
        dataset_key = dataset.lower() if dataset else None
        metadata = metadata or {}
        latex = dataset_key in MATH_DATASETS or (
            dataset_key != "gsm8k" and looks_like_latex(question, solution)
        )
        scores = _Scores()
        q, calcs, n_equals = self._collect_problem(question, solution, latex, metadata, scores)
        totals, tags = self._select_with_subject(scores, metadata)

        source: GradeSource
        if grade is not None:
            out_grade, source = grade, "pinned"
        else:
            steps = self._steps(calcs, n_equals, q)
            features = _Features(steps=steps, max_number=q.numbers.max_abs)
            out_grade, source = self._estimate_grade(tags, totals, features, dataset_key, metadata)

        evidence = {tag: [label for label in scores.cues[tag]][:8] for tag in tags}
        return TagResult(
            topic_tags=tags,
            grade=out_grade,
            grade_source=source,
            evidence=evidence,
            scores={tag: round(totals[tag], 3) for tag in tags},
            tagger_version=self.version,
        )

    def tag_record(self, record: DatasetRecord, *, use_metadata: bool = True) -> TagResult:
        """Tag a normalized dataset record (its subject/level are used when ``use_metadata``)."""
        return self.tag(
            record.question,
            record.solution,
            dataset=record.dataset,
            metadata=record.metadata if use_metadata else None,
        )

    # -------------------------------------------------------------- cue collection

    def _collect_problem(
        self,
        question: str,
        solution: str | None,
        latex: bool,
        metadata: Mapping[str, Any],
        scores: _Scores,
    ) -> tuple[Prepared, list[str], int]:
        """Cues of the question, the solution and the calculation notes, into ``scores``; returns
        the prepared question, the calculations and the ``=`` count of the solution's math."""
        q = prepare(question, latex=latex, question=True)
        self._collect(q, scores, factor=1.0, prefix="")
        calcs = list(q.calcs)
        n_equals = 0
        if solution:
            s = prepare(solution, latex=latex, question=False)
            self._collect(s, scores, factor=SOLUTION_WEIGHT, prefix="solution: ")
            calcs += s.calcs
            n_equals = sum(seg.count("=") for seg in s.segments) if latex else 0
            if s.equations >= 2:
                scores.add("algebra.equations", "solution: solved with equations", 0.7)
        if not calcs and isinstance(metadata.get("calculations"), list):
            calcs = [str(c) for c in metadata["calculations"]]
        self._collect_calcs(calcs, scores)
        return q, calcs, n_equals

    def _collect(self, prep: Prepared, scores: _Scores, *, factor: float, prefix: str) -> None:
        for match in self._keyword_re.finditer(prep.lowered):
            for topic, weight, phrase in self._phrases[match.group(1)]:
                kind = "keyword" if weight >= STRONG_KEYWORD_WEIGHT else "weak keyword"
                scores.add(topic, f"{prefix}{kind} '{phrase}'", weight * factor)
        text = prep.text
        if prep.numbers.negative:
            scores.add("arithmetic.integers", prefix + "negative number", 1.0 * factor)
        if prep.numbers.decimal:
            scores.add("arithmetic.decimals", prefix + "decimal number", 0.8 * factor)
        for rule in TEXT_RULES:
            if rule.needs in text and rule.pattern.search(text):
                scores.add(rule.topic, prefix + rule.label, rule.weight * factor)
        if prep.segments:
            joined = "\n".join(seg.replace("\n", " ") for seg in prep.segments)
            for rule in MATH_RULES:
                if rule.needs in joined:
                    n = len(rule.pattern.findall(joined))
                    if n:
                        scores.add(rule.topic, prefix + rule.label, rule.weight * factor, n)
            for segment in prep.segments:
                prep.equations += self._segment_shape(segment, scores, factor, prefix)
        if prep.diagram == "graph":
            scores.add("algebra.functions", prefix + "graph diagram", 0.4 * factor)
        elif prep.diagram == "figure":
            scores.add("geometry", prefix + "diagram", 0.6 * factor)

    def _segment_shape(self, segment: str, scores: _Scores, factor: float, prefix: str) -> bool:
        """Numeric-only expressions -> arithmetic operations; equations with variables.
        Returns True for an equation with a variable."""
        if has_variable(segment):
            if "=" in segment:
                scores.add("algebra.equations", prefix + "equation with a variable", 0.5 * factor)
                return True
            scores.add("algebra.expressions", prefix + "expression with a variable", 0.3 * factor)
            return False
        ops = [topic for topic, rx in NUMERIC_OPS.items() if rx.search(segment)]
        for topic in ops:
            scores.add(topic, prefix + "numeric expression", 0.5 * factor)
        if "^" in segment and NUMERIC_POWER.search(segment):
            scores.add("arithmetic.exponents_roots", prefix + "numeric power", 0.8 * factor)
        if len(ops) == 2 or (ops and "(" in segment):
            scores.add("arithmetic.order_of_operations", prefix + "mixed operations", 0.6 * factor)
        return False

    @staticmethod
    def _collect_calcs(calcs: list[str], scores: _Scores) -> None:
        for calc in calcs:
            expr = calc.split("=", 1)[0]
            label = f"calculation {calc.strip()}"
            ops = set(CALC_OPS.findall(expr))
            if ops & {"+", "-"}:
                scores.add("arithmetic.addition_subtraction", "calculation +/-", 0.7)
            if ops & {"*", "/", "x"}:
                scores.add("arithmetic.multiplication_division", "calculation */÷", 0.7)
            if CALC_PERCENT.search(expr):
                scores.add("arithmetic.percent", label, 0.5)
            elif CALC_DECIMAL.search(expr):
                scores.add("arithmetic.decimals", "calculation with decimals", 0.3)
            if CALC_NEGATIVE.search(calc):
                scores.add("arithmetic.integers", label, 0.3)

    # -------------------------------------------------------------- selection and grade

    def _select_with_subject(
        self, scores: _Scores, metadata: Mapping[str, Any]
    ) -> tuple[dict[str, float], list[str]]:
        """Topic totals and tags; a MATH subject label none of the tags falls under adds its
        primary topic as a cue and forces it among the tags."""
        totals = scores.totals()
        tags = self._select(totals)
        subject = metadata.get("subject")
        mapping = self.taxonomy.subject_mapping(subject) if isinstance(subject, str) else None
        if mapping is not None and not any(
            self.taxonomy.covers(t, tag) for tag in tags for t in mapping.topics
        ):
            scores.add(mapping.primary, f"metadata subject {subject!r}", 2.0)
            totals = scores.totals()
            tags = self._select(totals, force=mapping.primary)
        return totals, tags

    def _select(self, totals: Mapping[str, float], force: str | None = None) -> list[str]:
        if not totals:
            return [force] if force else []
        best = max(totals.values())
        floor = max(MIN_SCORE, RELATIVE_MIN * best)
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = [t for t, s in ranked if s >= floor or t == force]
        # a tag's ancestors add nothing once the tag itself is present
        kept = [t for t in kept if not any(o != t and o.startswith(t + ".") for o in kept)]
        return kept[:MAX_TAGS]

    @staticmethod
    def _steps(calcs: list[str], n_equals: int, q: Prepared) -> int:
        if calcs:
            return len(calcs)
        if n_equals:
            return math.ceil(n_equals / 2)
        return max(1, q.numbers.count - 1)

    def _estimate_grade(
        self,
        tags: list[str],
        totals: Mapping[str, float],
        features: _Features,
        dataset: str | None,
        metadata: Mapping[str, Any],
    ) -> tuple[int, GradeSource]:
        level = metadata.get("level")
        subject = metadata.get("subject")
        if (
            isinstance(level, int)
            and not isinstance(level, bool)
            and level in self.taxonomy.math_level_grades
            and (
                dataset in MATH_DATASETS
                or (isinstance(subject, str) and self.taxonomy.subject_mapping(subject))
            )
        ):
            return self.taxonomy.math_level_grades[level], "estimated"

        step_c = min(1.0, max(0, features.steps - 1) / 5)
        mag_c = min(1.0, math.log10(features.max_number + 1) / 5) if features.max_number else 0.0
        complexity = 0.6 * step_c + 0.4 * mag_c

        if tags:
            best = max(totals[t] for t in tags)
            anchors = [self.taxonomy.get(t) for t in tags if totals[t] >= ANCHOR_RELATIVE * best]
            anchor = max(anchors, key=lambda t: (t.grade_min, t.grade_max, t.id))
            lo, hi = anchor.grades
        else:
            lo, hi = DATASET_GRADES.get(dataset or "", (GRADE_MIN, 8))
        estimate = lo + round(complexity * (hi - lo))
        if dataset in DATASET_GRADES:
            d_lo, d_hi = DATASET_GRADES[dataset]
            estimate = min(max(estimate, d_lo), d_hi)
        return min(max(estimate, GRADE_MIN), GRADE_MAX), "estimated"


def _check_inputs(question: object, grade: object) -> None:
    """A question that is not text, or a pinned grade outside the taxonomy's range, is refused
    here rather than tagged wrongly."""
    if not isinstance(question, str):
        raise TypeError("question must be a string")
    if grade is not None and (
        isinstance(grade, bool) or not isinstance(grade, int) or not GRADE_MIN <= grade <= GRADE_MAX
    ):
        raise ValueError(f"grade must be an integer in {GRADE_MIN}..{GRADE_MAX}, got {grade!r}")


@lru_cache(maxsize=1)
def default_tagger() -> RuleTagger:
    """The tagger over the packaged taxonomy (built once)."""
    return RuleTagger()


def tag_problem(
    question: str,
    solution: str | None = None,
    *,
    grade: int | None = None,
    dataset: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> TagResult:
    """Tag one problem with topics and a grade (see :class:`RuleTagger`)."""
    return default_tagger().tag(question, solution, grade=grade, dataset=dataset, metadata=metadata)
