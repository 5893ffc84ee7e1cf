"""Deterministic rule tagger: topic tags and a grade for a math problem.

Cues, each with a weight: taxonomy keywords; number kinds in the text (negative, decimal,
fraction, percent, money, clock time); GSM8K calculator annotations (``<<a*b=c>>``); LaTeX
commands (``\\frac``, ``\\sqrt``, ``\\log``, ``\\sin``, matrices, ``\\binom``, ``\\pmod`` ...).
Cues found in the solution count ``SOLUTION_WEIGHT`` as much as cues in the question. The grade
comes from the grade bands of the strongest topics and the problem's complexity (calculation
steps, number magnitudes), unless pinned by the caller. See docs/taxonomy.md.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tutorlab.curriculum.taxonomy import GRADE_MAX, GRADE_MIN, Taxonomy, load_taxonomy
from tutorlab.datasets.records import DatasetRecord

RULES_VERSION = "1"
SOLUTION_WEIGHT = 0.35
STRONG_KEYWORD_WEIGHT = 1.0
WEAK_KEYWORD_WEIGHT = 0.4
#: a topic is a tag when its score is at least MIN_SCORE and RELATIVE_MIN of the best score
MIN_SCORE = 0.6
WEAK_ONLY_CAP = 0.5
RELATIVE_MIN = 0.25
MAX_TAGS = 5
#: the i-th strongest cue of a topic counts CUE_DECAY**i of its weight
CUE_DECAY = 0.6
#: topics with at least ANCHOR_RELATIVE of the best score set the grade band
ANCHOR_RELATIVE = 0.5
MATH_DATASETS = frozenset({"math", "math500"})
#: grade range each known dataset's problems fall in, applied to estimates
DATASET_GRADES: dict[str, tuple[int, int]] = {
    "gsm8k": (2, 8),
    "math": (6, 12),
    "math500": (6, 12),
}

GradeSource = Literal["pinned", "estimated"]


class TagResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    topic_tags: list[str]
    grade: int
    grade_source: GradeSource
    evidence: dict[str, list[str]]
    scores: dict[str, float]
    tagger_version: str


# ------------------------------------------------------------------ text preparation

_LATEX_HINT = re.compile(r"\\[a-zA-Z]{2,}|\$[^$\n]*(?:[=^_\\<>+*/]|\d[a-zA-Z]\b)[^$\n]*\$")
_ESCAPED_DOLLAR = re.compile(r"\\\$")
_PLAIN_MONEY = re.compile(r"\$(?=\s?\.?\d)")
_ASY = re.compile(r"\[asy\](.*?)(?:\[/asy\]|$)", re.S)
_ASY_GRAPH = re.compile(r"xaxis|yaxis|axes\(|xticks|real\s+f\s*\(|graph\s*\(", re.I)
_CALC = re.compile(r"<<([^<>]*)>>")
_MATH_SEGMENT = re.compile(
    r"\$\$(.+?)\$\$|\$(.+?)\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|"
    r"\\begin\{(?:align|equation|eqnarray|gather)\*?\}(.+?)\\end\{",
    re.S,
)
_SIZING = re.compile(r"\\(?:left|right|[bB]igg?[lr]?)(?![a-zA-Z])")
_SENTENCE_SPLIT = re.compile(r"(?<=[.?!])\s+|(?<=[.?!]\$)\s*|\n+")
_INSTRUCTION = re.compile(
    r"^\(?\s*(?:express|give|enter|write|round|leave|present|put|your answer)\b.*\banswers?\b",
    re.I | re.S,
)
_WHITESPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|-?\.\d+")
_MINUS_DIGIT = re.compile(r"-(?=\.?\d)")
_POINT_DIGIT = re.compile(r"\.(?=\d)")
_TEXT_FRACTION = re.compile(r"(?<![\w/.])\d+\s*/\s*\d+(?![\w/]|\.\d)")
_CLOCK = r"(?<![\d:])\d{1,2}:\d\d(?![\d:])"
_AM_PM = r"\d ?[ap]\.?m\.?(?![a-z])"
_MONEY_SIGN = "\u00a4"


@dataclass(frozen=True)
class _Rule:
    topic: str
    pattern: re.Pattern[str]
    weight: float
    label: str
    needs: str  # a substring the text must contain for the rule to be tried ("" = always)


def _r(
    topic: str, pattern: str, weight: float, label: str, flags: int = 0, needs: str = ""
) -> _Rule:
    if not needs and pattern.startswith("\\\\"):
        needs = "\\"
    return _Rule(topic, re.compile(pattern, flags), weight, label, needs)


#: rules applied to the whole (prepared) text, question and solution
TEXT_RULES: tuple[_Rule, ...] = (
    _r("arithmetic.percent", r"%", 1.5, "percent sign", needs="%"),
    _r("measurement.money", _MONEY_SIGN, 1.5, "money amount", needs=_MONEY_SIGN),
    _r("measurement.time", _CLOCK, 1.0, "clock time", needs=":"),
    _r("measurement.time", _AM_PM, 1.0, "clock time", re.I),
    _r("arithmetic.fractions", _TEXT_FRACTION.pattern, 1.0, "fraction a/b", needs="/"),
    _r(
        "arithmetic.multiplication_division",
        r"\d\s*(?:[x*÷]|\\times|\\div)\s*\d",
        1.0,
        "a x b",
    ),
    _r("arithmetic.addition_subtraction", r"\d\s*(?:\+|\s-\s)\s*\d", 0.5, "a + b"),
    _r(
        "algebra.equations",
        r"\b[Ll]et \$?[a-z]\$? (?:be|denote|represent|equal)",
        2.0,
        "let x be (an unknown)",
        needs="et ",
    ),
    _r(
        "arithmetic.fractions",
        r"\\[dt]?frac\s*\{\s*-?\d+\s*\}\s*\{\s*\d+\s*\}",
        1.0,
        "\\frac{n}{n}",
    ),
    _r("algebra.expressions", r"\\[dt]?frac\s*\{[^{}]*[a-zA-Z]", 0.3, "\\frac with a variable"),
    _r("arithmetic.exponents_roots", r"\\sqrt", 1.0, "\\sqrt"),
    _r("algebra.exponentials_logarithms", r"\\(?:log|ln)(?![a-zA-Z])", 1.5, "\\log"),
    _r(
        "precalculus.trigonometry",
        r"\\(?:sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan)(?![a-zA-Z])",
        1.5,
        "trig function",
    ),
    _r("precalculus.matrices", r"\\begin\{[pbvB]?matrix\}(?:(?!\\end).)*&", 1.5, "matrix", re.S),
    _r("precalculus.matrices", r"\\begin\{vmatrix\}|\\det(?![a-zA-Z])", 1.5, "determinant"),
    _r("precalculus.matrices", r"\\mathbf\{[A-Z]\}", 0.8, "\\mathbf{M}"),
    _r("precalculus.vectors", r"\\begin\{pmatrix\}(?:(?![&]|\\end).)*\\end", 1.2, "vector", re.S),
    _r("precalculus.vectors", r"\\mathbf\{[a-z]\}|\\vec|\\overrightarrow", 1.0, "vector symbol"),
    _r("precalculus.vectors", r"\\operatorname\{proj\}|\\text\{proj\}", 1.5, "projection"),
    _r("combinatorics.permutations_combinations", r"\\[dt]?binom|\\choose", 1.5, "\\binom"),
    _r("number_theory.modular_arithmetic", r"\\pmod|\\equiv|\\bmod|\\mod(?![a-z])", 2.0, "mod"),
    _r("number_theory.divisibility", r"\\mid(?![a-z])", 1.0, "\\mid"),
    _r("algebra.functions", r"\\lfloor|\\lceil", 1.0, "floor/ceiling"),
    _r("algebra.sequences_series", r"\\sum(?![a-z])", 1.0, "\\sum"),
    _r("algebra.sequences_series", r"\\prod(?![a-z])", 0.5, "\\prod"),
    _r("geometry.angles", r"\\angle|\\measuredangle", 1.2, "\\angle"),
    _r("geometry.angles", r"\^\s*\{?\\circ", 0.6, "degrees", needs="\\circ"),
    _r("geometry.triangles", r"\\triangle", 1.2, "\\triangle"),
    _r("geometry.triangles", r"\\cong|\\sim(?![a-z])", 0.6, "congruence/similarity"),
    _r("geometry", r"\\overline\{[A-Z]{2}\}|\\parallel|\\perp|\\overarc|\\widehat", 0.6, "segment"),
    _r("geometry.circles", r"\\pi(?![a-z])", 0.4, "\\pi"),
    _r("statistics.data_displays", r"\\begin\{tabular\}", 0.8, "table"),
    _r(
        "number_theory.number_bases",
        r"(?<![a-zA-Z\\{])(?=[0-9A-F]*\d)[0-9A-F]+_\{?\d{1,2}\}?(?!\d)",
        1.5,
        "n_b",
        needs="_",
    ),
    _r(
        "number_theory.number_bases",
        r"\bbase\s*\$?\s*\d|\bbase\s+(?:two|three|[a-z]+teen)",
        1.5,
        "base b",
        re.I,
        needs="base",
    ),
    _r(
        "precalculus.polar_parametric",
        r"\\theta\s*\)|\(\s*r\s*,\s*\\theta",
        1.2,
        "(r, \\theta)",
        needs="\\theta",
    ),
    _r("precalculus.polar_parametric", r"\\operatorname\{cis\}|\\text\{cis\}", 1.2, "cis"),
    _r(
        "algebra.complex_numbers",
        r"\\overline\{z\}|\\bar\{z\}|\\operatorname\{Re\}|\\text\{Re\}",
        1.0,
        "conjugate/real part",
    ),
)

#: rules applied to the LaTeX math segments ($...$, \[...\]) joined one per line
MATH_RULES: tuple[_Rule, ...] = (
    # patterns open with a literal where they can (fast scanning); lookbehinds then check that
    # the letter before is a lone variable, not part of a word or a \command
    _r(
        "algebra.inequalities",
        r"\\(?:le|ge|leq|geq|lt|gt|leqslant|geqslant)(?![a-z])|[<>]",
        0.8,
        "inequality sign",
    ),
    _r("algebra.functions", r"\((?<=[fgh]\()(?<![a-zA-Z\\][fgh]\()\s*[-\w\\]", 1.0, "f(x)"),
    _r("algebra.functions", r"\^\{-1\}(?<=[fgh]\^\{-1\})|\\circ\s*[fgh]", 1.5, "inverse/compose"),
    _r("algebra.polynomials", r"\((?<=[pqPQ]\()(?<![a-zA-Z\\][pqPQ]\()\s*[-xz\d]", 0.6, "p(x)"),
    _r(
        "algebra.polynomials",
        r"\^(?<=[a-z]\^)(?<![a-zA-Z\\][a-z]\^)\{?(?:[3-9]|\d\d+)\b",
        0.6,
        "x^3",
    ),
    _r("algebra.quadratics", r"\^(?<=[a-z]\^)(?<![a-zA-Z\\][a-z]\^)\{?2(?![\d.])", 0.5, "x^2"),
    _r("algebra.exponentials_logarithms", r"\^(?<=\d\^)\{?[a-z](?![a-z])", 0.8, "b^x"),
    _r("algebra.absolute_value", r"\|(?<!\\\|)[^|\n]*\w[^|\n]*\|(?<!\\\|)", 0.8, "|x|"),
    _r(
        "algebra.complex_numbers",
        r"i(?![a-zA-Z])(?<![a-zA-Z\\]i)(?:(?<=\di)|(?<=\d i)|(?<=[+-]i)|(?<=[+-] i)|(?=\^))",
        1.0,
        "imaginary unit",
    ),
    _r(
        "algebra.sequences_series",
        r"_(?<=[a-zA-Z]_)(?<![a-zA-Z\\][a-zA-Z]_)\{?n(?![a-z])",
        1.0,
        "a_n",
    ),
    _r("algebra.sequences_series", r"\\[lc]?dots", 0.5, "\\dots"),
    _r("combinatorics.permutations_combinations", r"!(?<=[\d)}a-z]!)", 1.0, "factorial"),
    _r(
        "algebra.conics",
        r"\\frac\{\s*\(?\s*[xy][^{}\n]*\^2\s*\}\{[^{}\n]+\}\s*[+-]\s*\\frac\{\s*\(?\s*[xy]",
        1.5,
        "conic equation",
    ),
)

_VARIABLE = re.compile(r"(?<![a-zA-Z\\])[a-z](?![a-zA-Z])")
_COMMAND_OR_TEXT = re.compile(r"\\text\{[^}]*\}|\\mbox\{[^}]*\}|\\[a-zA-Z]+")
_NUMERIC_OPS = {
    "arithmetic.multiplication_division": re.compile(
        r"\\times|\\cdot|\\div|\*|(?<=\d)\s*/\s*(?=\d)"
    ),
    "arithmetic.addition_subtraction": re.compile(r"(?<=[\d)}])\s*[+-]\s*(?=[\d({.\\])"),
}
_NUMERIC_POWER = re.compile(r"\d\s*\)?\s*\^")
_CALC_OPS = re.compile(r"(?<=[\d.)%])\s*([+\-*/x])\s*(?=[\d.(])")


def _looks_like_latex(question: str, solution: str | None) -> bool:
    """LaTeX commands or $...$ math (GSM8K calculator notes ignored): then a bare $ delimits
    math; otherwise it is a dollar sign."""
    return any(
        _LATEX_HINT.search(_CALC.sub(" ", text)) for text in (question, solution or "") if text
    )


def _has_variable(segment: str) -> bool:
    return bool(_VARIABLE.search(_COMMAND_OR_TEXT.sub(" ", segment)))


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return (
        text.replace("\u2212", "-")
        .replace("\u2013", "-")
        .replace("\u2044", "/")
        .replace("\u2019", "'")
        .replace("\u00d7", "\\times ")
        .replace("\u00f7", "\\div ")
    )


@dataclass(frozen=True)
class _Numbers:
    count: int
    max_abs: float
    negative: bool
    decimal: bool


def _is_sign(text: str, minus: int) -> bool:
    """True when the "-" at ``minus`` is a sign: not after an operand (x-3 subtracts) and not
    an exponent or index (^{-1}, _{-1})."""
    before = text[minus - 1] if minus else " "
    if before == "{":
        return minus < 2 or text[minus - 2] not in "^_"
    return before in " \t\n([$=,:"


def _is_decimal(text: str, point: int) -> bool:
    """True when the "." at ``point`` (followed by a digit) is a decimal point of a number that
    stands alone (not x.5, not a version number like 1.2.3)."""
    start = point
    while start and text[start - 1].isdigit():
        start -= 1
    before = text[start - 1] if start else " "
    if before.isalpha() or before in "._":
        return False
    end = point + 1
    while end < len(text) and text[end].isdigit():
        end += 1
    return not (text.startswith(".", end) and text[end + 1 : end + 2].isdigit())


def _number_kinds(text: str) -> tuple[bool, bool]:
    """(has a negative number, has a decimal number)."""
    negative = "-" in text and any(_is_sign(text, m.start()) for m in _MINUS_DIGIT.finditer(text))
    decimal = "." in text and any(_is_decimal(text, m.start()) for m in _POINT_DIGIT.finditer(text))
    return negative, decimal


def _scan_numbers(text: str, *, full: bool) -> _Numbers:
    """Number kinds of a text and, when ``full``, how many numbers and the largest one."""
    negative, decimal = _number_kinds(text)
    count, max_abs = 0, 0.0
    if full:
        for match in _NUMBER.finditer(text):
            start, token = match.start(), match.group()
            if token[0] == "-":
                start, token = start + 1, token[1:]
            before = text[start - 1] if start else " "
            if before.isalpha() or before in "._" or (before.isdigit() and token[0] == "."):
                continue
            count += 1
            try:
                max_abs = max(max_abs, float(token.replace(",", "")))
            except ValueError:
                continue
    return _Numbers(count, max_abs, negative, decimal)


@dataclass
class _Prepared:
    text: str  # money marked with _MONEY_SIGN, diagrams and calculator notes removed
    lowered: str  # for keyword matching
    segments: list[str]
    calcs: list[str]
    diagram: str | None  # "graph" | "figure" | None
    numbers: _Numbers
    equations: int = 0  # math segments that are equations with a variable (set by _collect)


def _prepare(raw: str, *, latex: bool, question: bool) -> _Prepared:
    text = _normalize(raw)
    calcs = _CALC.findall(text)
    text = _CALC.sub(" ", text)
    diagram: str | None = None
    asy = _ASY.findall(text)
    if asy:
        diagram = "graph" if any(_ASY_GRAPH.search(a) for a in asy) else "figure"
        text = _ASY.sub(" ", text)
    money = _ESCAPED_DOLLAR if latex else _PLAIN_MONEY
    text = money.sub(_MONEY_SIGN, text)
    if question:
        sentences = _SENTENCE_SPLIT.split(text)
        kept = [
            s
            for s in sentences
            if s and not (s.count("$") % 2 == 0 and _INSTRUCTION.match(s.strip()))
        ]
        text = " ".join(kept) if kept else text
    segments = (
        [next(g for g in m.groups() if g) for m in _MATH_SEGMENT.finditer(text)] if latex else []
    )
    lowered = _WHITESPACE.sub(" ", _SIZING.sub(" ", text).lower())
    return _Prepared(text, lowered, segments, calcs, diagram, _scan_numbers(text, full=question))


def _inflections(word: str) -> list[str]:
    """The phrase and the plural of its last word (for phrases of 4+ characters)."""
    if len(word) < 4:
        return [word]
    if word.endswith(("s", "x", "z", "ch", "sh")):
        plural = word + "es"
    elif word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        plural = word[:-1] + "ies"
    else:
        plural = word + "s"
    return [word, plural]


def _trie_pattern(words: Iterable[str]) -> str:
    """A regex matching any of ``words`` (longest first at each branch), built as a trie."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


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
                    for form in _inflections(phrase):
                        entries = self._phrases[form]
                        if not any(e[0] == topic.id and e[1] >= weight for e in entries):
                            entries[:] = [e for e in entries if e[0] != topic.id]
                            entries.append((topic.id, weight, phrase))
        self._keyword_re = re.compile(
            r"(?<![a-z0-9])(" + _trie_pattern(sorted(self._phrases)) + r")(?![a-z0-9])"
        )
        unknown = {r.topic for r in (*TEXT_RULES, *MATH_RULES)} - set(self.taxonomy.ids)
        unknown |= set(_NUMERIC_OPS) - set(self.taxonomy.ids)
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
        if not isinstance(question, str):
            raise TypeError("question must be a string")
        if grade is not None and (
            isinstance(grade, bool)
            or not isinstance(grade, int)
            or not GRADE_MIN <= grade <= GRADE_MAX
        ):
            raise ValueError(f"grade must be an integer in {GRADE_MIN}..{GRADE_MAX}, got {grade!r}")
        dataset_key = dataset.lower() if dataset else None
        metadata = metadata or {}
        latex = dataset_key in MATH_DATASETS or (
            dataset_key != "gsm8k" and _looks_like_latex(question, solution)
        )
        scores = _Scores()
        q = _prepare(question, latex=latex, question=True)
        self._collect(q, scores, factor=1.0, prefix="")
        calcs = list(q.calcs)
        n_equals = 0
        if solution:
            s = _prepare(solution, latex=latex, question=False)
            self._collect(s, scores, factor=SOLUTION_WEIGHT, prefix="solution: ")
            calcs += s.calcs
            n_equals = sum(seg.count("=") for seg in s.segments) if latex else 0
            if s.equations >= 2:
                scores.add("algebra.equations", "solution: solved with equations", 0.7)
        if not calcs and isinstance(metadata.get("calculations"), list):
            calcs = [str(c) for c in metadata["calculations"]]
        self._collect_calcs(calcs, scores)

        subject_mapping = None
        subject = metadata.get("subject")
        if isinstance(subject, str):
            subject_mapping = self.taxonomy.subject_mapping(subject)

        totals = scores.totals()
        tags = self._select(totals)
        if subject_mapping is not None and not any(
            self.taxonomy.covers(t, tag) for tag in tags for t in subject_mapping.topics
        ):
            primary = subject_mapping.primary
            scores.add(primary, f"metadata subject {subject!r}", 2.0)
            totals = scores.totals()
            tags = self._select(totals, force=primary)

        features = _Features(
            steps=self._steps(calcs, n_equals, q),
            max_number=q.numbers.max_abs,
        )
        source: GradeSource
        if grade is not None:
            out_grade, source = grade, "pinned"
        else:
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

    def _collect(self, prep: _Prepared, scores: _Scores, *, factor: float, prefix: str) -> None:
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
        if _has_variable(segment):
            if "=" in segment:
                scores.add("algebra.equations", prefix + "equation with a variable", 0.5 * factor)
                return True
            scores.add("algebra.expressions", prefix + "expression with a variable", 0.3 * factor)
            return False
        ops = [topic for topic, rx in _NUMERIC_OPS.items() if rx.search(segment)]
        for topic in ops:
            scores.add(topic, prefix + "numeric expression", 0.5 * factor)
        if "^" in segment and _NUMERIC_POWER.search(segment):
            scores.add("arithmetic.exponents_roots", prefix + "numeric power", 0.8 * factor)
        if len(ops) == 2 or (ops and "(" in segment):
            scores.add("arithmetic.order_of_operations", prefix + "mixed operations", 0.6 * factor)
        return False

    @staticmethod
    def _collect_calcs(calcs: list[str], scores: _Scores) -> None:
        for calc in calcs:
            expr = calc.split("=", 1)[0]
            label = f"calculation {calc.strip()}"
            ops = set(_CALC_OPS.findall(expr))
            if ops & {"+", "-"}:
                scores.add("arithmetic.addition_subtraction", "calculation +/-", 0.7)
            if ops & {"*", "/", "x"}:
                scores.add("arithmetic.multiplication_division", "calculation */÷", 0.7)
            if re.search(r"/\s*100(?![\d.])|\*\s*0?\.01(?!\d)|\d%", expr):
                scores.add("arithmetic.percent", label, 0.5)
            elif re.search(r"(?<![\d.])\d*\.\d+", expr):
                scores.add("arithmetic.decimals", "calculation with decimals", 0.3)
            if re.search(r"(?<![\d.])-\d|=\s*-\d", calc):
                scores.add("arithmetic.integers", label, 0.3)

    # -------------------------------------------------------------- selection and grade

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
    def _steps(calcs: list[str], n_equals: int, q: _Prepared) -> int:
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
