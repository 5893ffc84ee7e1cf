"""The rule tagger's tables: every cue it looks for and what each is worth, apart from the code
that applies them (:mod:`tutorlab.curriculum.tagging.tagger`).

Tuning the tagger means editing this module: a weight, a threshold, a pattern, a dataset's grade
range. Bump ``RULES_VERSION`` with any change that can move a tag or a grade, so that stored tags
name the rules that made them. Topic ids must exist in the taxonomy (the tagger checks at start).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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

#: stands in for a money sign once text preparation has told money from LaTeX math
MONEY_SIGN = "\u00a4"
_TEXT_FRACTION = r"(?<![\w/.])\d+\s*/\s*\d+(?![\w/]|\.\d)"
_CLOCK = r"(?<![\d:])\d{1,2}:\d\d(?![\d:])"
_AM_PM = r"\d ?[ap]\.?m\.?(?![a-z])"


@dataclass(frozen=True)
class Rule:
    """A pattern that, when found, adds ``weight`` to ``topic`` (``label`` is the evidence)."""

    topic: str
    pattern: re.Pattern[str]
    weight: float
    label: str
    needs: str  # a substring the text must contain for the rule to be tried ("" = always)


def _r(
    topic: str, pattern: str, weight: float, label: str, flags: int = 0, needs: str = ""
) -> Rule:
    """A compiled rule; one whose pattern opens with a LaTeX command needs a backslash."""
    if not needs and pattern.startswith("\\\\"):
        needs = "\\"
    return Rule(topic, re.compile(pattern, flags), weight, label, needs)


#: rules applied to the whole (prepared) text, question and solution
TEXT_RULES: tuple[Rule, ...] = (
    _r("arithmetic.percent", r"%", 1.5, "percent sign", needs="%"),
    _r("measurement.money", MONEY_SIGN, 1.5, "money amount", needs=MONEY_SIGN),
    _r("measurement.time", _CLOCK, 1.0, "clock time", needs=":"),
    _r("measurement.time", _AM_PM, 1.0, "clock time", re.I),
    _r("arithmetic.fractions", _TEXT_FRACTION, 1.0, "fraction a/b", needs="/"),
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
MATH_RULES: tuple[Rule, ...] = (
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

#: numeric-only math segments: the arithmetic operation each pattern shows
NUMERIC_OPS = {
    "arithmetic.multiplication_division": re.compile(
        r"\\times|\\cdot|\\div|\*|(?<=\d)\s*/\s*(?=\d)"
    ),
    "arithmetic.addition_subtraction": re.compile(r"(?<=[\d)}])\s*[+-]\s*(?=[\d({.\\])"),
}
NUMERIC_POWER = re.compile(r"\d\s*\)?\s*\^")
CALC_OPS = re.compile(r"(?<=[\d.)%])\s*([+\-*/x])\s*(?=[\d.(])")
#: GSM8K calculator notes (``<<a*b=c>>``): a percent, a decimal, a negative number
CALC_PERCENT = re.compile(r"/\s*100(?![\d.])|\*\s*0?\.01(?!\d)|\d%")
CALC_DECIMAL = re.compile(r"(?<![\d.])\d*\.\d+")
CALC_NEGATIVE = re.compile(r"(?<![\d.])-\d|=\s*-\d")
