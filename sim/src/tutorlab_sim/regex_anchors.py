"""The anchors of a regular expression: words of which every match contains one, at a word start.

Python's ``re`` tries every branch of an alternation at every word start, so checking a prompt
against a few hundred phrase rules costs about a millisecond. A rule's anchors let a caller skip
it with a set lookup instead: a text with no word beginning like one of them cannot match.

:func:`anchors` reads the pattern text itself (only public APIs, no ``re`` internals). It knows
the syntax the simulator's rules use: literals and escapes, character classes, groups,
lookarounds, alternation and repeats. Anything else (a back reference, inline flags, an atomic
group) gives no anchors, so the rule is always tried: syntax it does not know costs speed, never a
match. Patterns are assumed to see lower-case text; an anchor is a word's first ``KEY`` letters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

KEY = 4  # anchors and words are compared on their first letters, up to this many
#: words too common to make good anchors (used only when nothing better is in the rule)
COMMON = frozenset(
    re.findall(
        "[a-z]+",
        "a an and are as at be but can do for from get have how i if in is it me my "
        "no not of on or so that the this to was we what when will with would you your",
    )
)


def anchors(pattern: str) -> frozenset[str] | None:
    """Word prefixes every match of ``pattern`` contains at a word start, or None when the
    pattern promises none (or uses syntax this reader does not know)."""
    try:
        items = _Reader(pattern).pattern()
    except ValueError:
        return None
    return _scan(items, False)[0]


# --- the pattern as a tree -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Char:
    """One literal character."""

    char: str


@dataclass(frozen=True, slots=True)
class _Set:
    """One character out of several (a class, ``\\w``, ``.``)."""

    letters: bool  # whether it can be a lower-case letter


@dataclass(frozen=True, slots=True)
class _At:
    """A zero-width position: ``\\b``, ``^``, ``$`` ..."""

    word_start: bool  # whatever follows starts a word (no letter just before it)


@dataclass(frozen=True, slots=True)
class _Look:
    """A lookahead or lookbehind: zero width, and it promises no words."""


@dataclass(frozen=True, slots=True)
class _Group:
    """A capturing group (a non-capturing one is read as part of the sequence around it)."""

    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Alt:
    branches: tuple[tuple[_Node, ...], ...]


@dataclass(frozen=True, slots=True)
class _Repeat:
    low: int  # the fewest times the body must match
    body: tuple[_Node, ...]


_Node = _Char | _Set | _At | _Look | _Group | _Alt | _Repeat

_SIMPLE_ESCAPES = {"a": "\a", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_CATEGORY_LETTERS = {"d": False, "s": False, "D": True, "S": True, "w": True, "W": True}
_POSITIONS = {"b": True, "A": True, "B": False, "Z": False}
_QUANTIFIER = re.compile(r"\{(\d*)(?:,(\d*))?\}")
_HEX_LENGTH = {"x": 2, "u": 4, "U": 8}
_OCTAL = "01234567"


class _Reader:
    """Recursive descent over the pattern text; raises ValueError on syntax it does not know."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def pattern(self) -> list[_Node]:
        items = self.alternation()
        if self.pos != len(self.text):
            raise ValueError(f"unbalanced ')' at {self.pos}")
        return items

    def peek(self, size: int = 1) -> str:
        return self.text[self.pos : self.pos + size]

    def take(self) -> str:
        if self.pos >= len(self.text):
            raise ValueError("unexpected end of pattern")
        self.pos += 1
        return self.text[self.pos - 1]

    def alternation(self) -> list[_Node]:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        if len(branches) == 1:
            return branches[0]
        return [_Alt(tuple(tuple(branch) for branch in branches))]

    def sequence(self) -> list[_Node]:
        items: list[_Node] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            low = self.quantifier()
            if low is None:
                items.extend(atom)
                continue
            if len(atom) == 1 and isinstance(atom[0], _At | _Look):
                raise ValueError(f"nothing to repeat at {self.pos}")
            items.append(_Repeat(low, tuple(atom)))
            if self.peek() in ("?", "+"):  # lazy or possessive: the same characters
                self.pos += 1
            if self.quantifier_ahead():
                raise ValueError(f"multiple repeat at {self.pos}")
        return items

    def counted(self, pos: int) -> re.Match[str] | None:
        """A ``{m,n}`` quantifier at ``pos`` (a "{" that opens none is a literal)."""
        match = _QUANTIFIER.match(self.text, pos)
        return match if match is not None and match.group() != "{}" else None

    def quantifier_ahead(self) -> bool:
        return self.peek() in ("?", "*", "+") or self.counted(self.pos) is not None

    def quantifier(self) -> int | None:
        """The fewest repeats of a quantifier here (None when there is none)."""
        char = self.peek()
        if char in ("?", "*", "+"):
            self.pos += 1
            return 1 if char == "+" else 0
        match = self.counted(self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return int(match.group(1) or 0)

    def atom(self) -> list[_Node]:
        """One item; a non-capturing group gives its items (they read as one sequence)."""
        char = self.take()
        if char == "(":
            return self.group()
        if char == "[":
            return [self.char_class()]
        if char == "\\":
            return [self.escape()]
        if char == ".":
            return [_Set(letters=True)]
        if char in ("^", "$"):
            return [_At(word_start=char == "^")]
        if char in ("?", "*", "+") or (char == "{" and self.counted(self.pos - 1)):
            raise ValueError(f"nothing to repeat at {self.pos - 1}")
        return [_Char(char)]

    def group(self) -> list[_Node]:
        capturing, look = True, False
        if self.peek() == "?":
            self.pos += 1
            kind = self.take()
            if kind == "<" and self.peek() in ("=", "!"):
                kind += self.take()
            if kind in ("=", "!", "<=", "<!"):
                look = True
            elif kind == ":":
                capturing = False
            elif kind == "P" and self.peek() == "<":
                self.pos = self.text.index(">", self.pos) + 1  # a named group
            else:
                raise ValueError(f"unknown group kind (?{kind} at {self.pos}")
        items = self.alternation()
        if self.take() != ")":
            raise ValueError(f"missing ')' at {self.pos}")
        if look:
            return [_Look()]
        return [_Group(tuple(items))] if capturing else items

    def escape(self) -> _Char | _Set | _At:
        char = self.take()
        if char in _POSITIONS:
            return _At(word_start=_POSITIONS[char])
        if char in _CATEGORY_LETTERS:
            return _Set(letters=_CATEGORY_LETTERS[char])
        return _Char(self.escaped_char(char))

    def escaped_char(self, char: str) -> str:
        """The character an escape (``\\n``, ``\\x41``, ``\\U0001F346``, ``\\.``) stands for."""
        if char in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[char]
        if char in _HEX_LENGTH:
            digits = self.text[self.pos : self.pos + _HEX_LENGTH[char]]
            if len(digits) != _HEX_LENGTH[char] or not re.fullmatch("[0-9a-fA-F]+", digits):
                raise ValueError(f"incomplete escape \\{char} at {self.pos}")
            self.pos += len(digits)
            return chr(int(digits, 16))
        if char == "0":
            digits = char
            while len(digits) < 3 and self.peek() and self.peek() in _OCTAL:
                digits += self.take()
            return chr(int(digits, 8))
        if char.isdigit() or ("a" <= char.lower() <= "z"):
            raise ValueError(f"back reference or unknown escape \\{char} at {self.pos}")
        return char

    def char_class(self) -> _Char | _Set:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        chars: set[str] = set()
        letters = negated
        first = True
        while True:
            char = self.take()
            if char == "]" and not first:
                break
            first = False
            if char == "\\":
                char = self.take()
                if char in _CATEGORY_LETTERS:
                    letters = letters or _CATEGORY_LETTERS[char]
                    chars.add("\\" + char)  # more than one character
                    continue
                char = "\b" if char == "b" else self.escaped_char(char)
            if self.peek() == "-" and self.peek(2)[1:] not in ("", "]"):
                self.pos += 1
                end = self.take()
                if end == "\\":
                    end = self.escaped_char(self.take())
                if end < char:
                    raise ValueError(f"bad range {char}-{end} at {self.pos}")
                letters = letters or (char <= "z" and end >= "a")
                chars.update((char, end))
                continue
            letters = letters or "a" <= char <= "z"
            chars.add(char)
        if len(chars) == 1 and not negated:
            return _Char(chars.pop())  # [x] is x
        return _Set(letters=letters)


# --- what every match contains ---------------------------------------------------------


def _scan(
    items: Sequence[_Node], boundary: bool, prefix: str = ""
) -> tuple[frozenset[str] | None, bool]:
    """(anchors every match of ``items`` contains, or None; whether it ends after a non-letter).

    ``boundary``: the text just before ``items`` is not a letter. ``prefix``: letters at a word
    start just before ``items``, which words inside a group continue (``kill(?:s|ed) `` holds
    "kills" or "killed").
    """
    candidates: list[frozenset[str]] = []
    run, run_ok = prefix, bool(prefix)

    def close() -> str:
        """End the run of letters; a run that began at a word start is a candidate."""
        nonlocal run
        word, run = (run if run_ok else ""), ""
        if word:
            candidates.append(frozenset({word[:KEY]}))
        return word

    for item in items:
        if isinstance(item, _Char) and "a" <= item.char <= "z":
            if not run:
                run_ok = boundary
            run += item.char
            boundary = False
            continue
        word = close()
        if isinstance(item, _Char):
            boundary = True
        elif isinstance(item, _At):
            boundary = boundary or item.word_start
        elif isinstance(item, _Set):
            boundary = not item.letters
        elif isinstance(item, _Group):
            found, boundary = _scan(item.items, boundary, word)
            if found is not None:
                candidates.append(found)
        elif isinstance(item, _Alt):
            results = [_scan(branch, boundary, word) for branch in item.branches]
            if all(found is not None for found, _ in results):
                candidates.append(frozenset().union(*(f for f, _ in results if f is not None)))
            boundary = all(end for _, end in results)
        elif isinstance(item, _Repeat):
            found, end = _scan(item.body, boundary, word if item.low >= 1 else "")
            if item.low >= 1 and found is not None:
                candidates.append(found)
            boundary = end if item.low >= 1 else boundary and end
        # a lookaround leaves the position where it was
    close()
    if not candidates:
        return None, boundary
    # the most selective choice: no common word, longest shortest anchor, fewest anchors
    return max(candidates, key=_selectivity), boundary


def _selectivity(found: frozenset[str]) -> tuple[bool, int, int]:
    return (found.isdisjoint(COMMON), min(map(len, found)), -len(found))
