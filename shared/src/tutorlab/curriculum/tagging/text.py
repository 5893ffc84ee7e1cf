"""Text preparation for the rule tagger: what the rules see of a problem.

Unicode normalized; GSM8K calculator notes (``<<a*b=c>>``) and Asymptote diagrams taken out and
kept apart; money told from LaTeX math and marked with ``MONEY_SIGN``; answer-format instructions
("Express your answer as a common fraction") dropped from questions; LaTeX math segments listed;
number kinds and sizes counted. Also the keyword matcher's building blocks (plurals, a trie regex).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tutorlab.curriculum.tagging.rules import MONEY_SIGN

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
_VARIABLE = re.compile(r"(?<![a-zA-Z\\])[a-z](?![a-zA-Z])")
_COMMAND_OR_TEXT = re.compile(r"\\text\{[^}]*\}|\\mbox\{[^}]*\}|\\[a-zA-Z]+")


def looks_like_latex(question: str, solution: str | None) -> bool:
    """LaTeX commands or $...$ math (GSM8K calculator notes ignored): then a bare $ delimits
    math; otherwise it is a dollar sign."""
    return any(
        _LATEX_HINT.search(_CALC.sub(" ", text)) for text in (question, solution or "") if text
    )


def has_variable(segment: str) -> bool:
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
class Numbers:
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


def _scan_numbers(text: str, *, full: bool) -> Numbers:
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
    return Numbers(count, max_abs, negative, decimal)


@dataclass
class Prepared:
    text: str  # money marked with MONEY_SIGN, diagrams and calculator notes removed
    lowered: str  # for keyword matching
    segments: list[str]
    calcs: list[str]
    diagram: str | None  # "graph" | "figure" | None
    numbers: Numbers
    equations: int = 0  # math segments that are equations with a variable (set by the tagger)


def prepare(raw: str, *, latex: bool, question: bool) -> Prepared:
    text = _normalize(raw)
    calcs = _CALC.findall(text)
    text = _CALC.sub(" ", text)
    diagram: str | None = None
    asy = _ASY.findall(text)
    if asy:
        diagram = "graph" if any(_ASY_GRAPH.search(a) for a in asy) else "figure"
        text = _ASY.sub(" ", text)
    money = _ESCAPED_DOLLAR if latex else _PLAIN_MONEY
    text = money.sub(MONEY_SIGN, text)
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
    return Prepared(text, lowered, segments, calcs, diagram, _scan_numbers(text, full=question))


def inflections(word: str) -> list[str]:
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


def trie_pattern(words: Iterable[str]) -> str:
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
