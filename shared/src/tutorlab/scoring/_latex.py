"""Small LaTeX helpers shared by the scorers: balanced braces, command arguments, math spans."""

from __future__ import annotations

import re
from functools import lru_cache

_MATH_SPAN = re.compile(
    r"\$\$(?P<dd>.{1,2000}?)\$\$"
    r"|\\\[(?P<br>.{1,2000}?)\\\]"
    r"|\\\((?P<pa>.{1,2000}?)\\\)"
    # a single-dollar span neither starts nor ends with a space: "$5 and $6" is money, not math
    r"|(?<![\\$])\$(?!\s)(?P<d>[^$]+?)(?<![\s\\])\$",
    re.S,
)


_BRACE_OR_ESCAPE = re.compile(r"\\.|[{}]", re.S)


def brace_pairs(text: str) -> dict[int, int]:
    """Index of each ``{`` mapped to the index of the ``}`` that closes it; an unclosed ``{`` (a
    truncated answer) is absent. Escaped braces (``\\{``) do not count.

    One pass for the whole text: finding each group's close by scanning from its opening costs
    the rest of the text per group, and a reply of thousands of unclosed ``\\boxed{`` took
    seconds (quadratic). The regex skips everything but braces and escapes at C speed.
    """
    pairs: dict[int, int] = {}
    opened: list[int] = []
    for match in _BRACE_OR_ESCAPE.finditer(text):
        token = match.group()
        if token == "{":
            opened.append(match.start())
        elif token == "}" and opened:
            pairs[opened.pop()] = match.start()
    return pairs


@lru_cache(maxsize=32)
def _command_pattern(names: tuple[str, ...], suffix: str) -> re.Pattern[str]:
    return re.compile(r"\\(?:" + "|".join(re.escape(n) for n in names) + r")" + suffix)


_BARE_ARGUMENT = re.compile(r"[^\s$]+")


def command_arguments(text: str, names: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """Every ``\\name{arg}`` (outermost first, left to right) as ``(start, end, arg)``.

    Also reads the brace-less form ``\\boxed 18`` (the argument runs to the next space or ``$``).
    Nested occurrences inside an argument are not listed separately; unclosed ones are skipped.
    """
    if "\\" not in text:
        return []
    pattern = _command_pattern(names, r"(?![A-Za-z])")
    found: list[tuple[int, int, str]] = []
    pairs: dict[int, int] | None = None
    pos = 0
    while (match := pattern.search(text, pos)) is not None:
        pos = i = match.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == "{":
            pairs = brace_pairs(text) if pairs is None else pairs
            close = pairs.get(i)
            if close is not None:
                found.append((match.start(), close + 1, text[i + 1 : close]))
                pos = close + 1
        elif i > match.end() and (bare := _BARE_ARGUMENT.match(text, i)) is not None:
            found.append((match.start(), bare.end(), bare.group(0)))
            pos = bare.end()
    return found


def unwrap_commands(text: str, names: tuple[str, ...]) -> str:
    """Replace each ``\\name{arg}`` with ``arg`` (nested wrappers too); an unclosed
    ``\\name{`` loses just its opening."""
    if "\\" not in text:
        return text
    pattern = _command_pattern(names, r"\s*\{")
    cuts: list[tuple[int, int]] = []
    pairs: dict[int, int] | None = None
    for match in pattern.finditer(text):
        cuts.append((match.start(), match.end()))
        pairs = brace_pairs(text) if pairs is None else pairs
        close = pairs.get(match.end() - 1)
        if close is not None:
            cuts.append((close, close + 1))
    if not cuts:
        return text
    cuts.sort()
    kept, pos = [], 0
    for start, end in cuts:
        kept.append(text[pos:start])
        pos = end
    kept.append(text[pos:])
    return "".join(kept)


def math_spans(text: str) -> list[tuple[int, int, str]]:
    """Inline and display math spans (``$..$``, ``$$..$$``, ``\\(..\\)``, ``\\[..\\]``)."""
    spans = []
    for match in _MATH_SPAN.finditer(text):
        content = next(g for g in match.groups() if g is not None)
        spans.append((match.start(), match.end(), content))
    return spans


def strip_math_spans(text: str, replacement: str = " ") -> str:
    """The text with every math span replaced by ``replacement``."""
    return _MATH_SPAN.sub(replacement, text)
