"""The anchor reader (``tutorlab_sim.regex_anchors``): the words every match of a pattern holds.

An anchor must be sound (a text that matches has a word starting like one of the anchors, or
the safety gate would skip a rule that matches); the cases pin how each piece of syntax counts,
and a seeded random search checks soundness on patterns nobody wrote by hand.
"""

from __future__ import annotations

import random
import re

import pytest
from tutorlab_sim.regex_anchors import KEY, anchors


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bkill\w*", {"kill"}),
        (r"\bsay(?:s|ing)? hello\b", {"hell"}),  # the longest word wins
        (r"\bhow (?:to|do i) swim\b", {"swim"}),  # common words only when nothing else
        (r"\b(?:dog|cat)s?|\bbird", {"dog", "cat", "bird"}),  # one anchor per branch
        (r"\b(?:dog|cat)s?|bird", None),  # "bird" may start inside a word: no promise
        (r"[a-z]kill", None),  # a letter may come before
        (r"[0-9]kill", {"kill"}),  # a digit may not
        (r"(?<=\d)kill", None),  # lookarounds promise nothing
        (r"\bkill(?=er)", {"kill"}),
        (r"^kill", {"kill"}),
        (r"\b[k]ill", {"kill"}),  # [k] is k
        (r"\bset{x}", {"set"}),  # a "{" that opens no repeat is a literal
        (r"\b(?:ab){2}c", {"ab"}),
        (r"\b(?P<word>kill)s", {"kill"}),
        (r"[\U0001F346\U0001F351]", None),  # no word at all
        (r"\b(a)\1", None),  # a back reference: not read, so always tried
        (r"(?i)\bkill", None),  # inline flags: likewise
        (r"(?>\bkill)", None),  # an atomic group: likewise
    ],
)
def test_anchors_by_syntax(pattern: str, expected: set[str] | None) -> None:
    re.compile(pattern)  # every case is a valid pattern
    assert anchors(pattern) == (None if expected is None else frozenset(expected))


#: the pieces random patterns are made of: letters, non-letters, classes and positions
POSITIONS = ("^", "$", r"\b", r"\B")
ATOMS = ("a", "b", "c", "ab", " ", ".", "1", "[ab]", "[^a]", r"\w", r"\d", r"\s", *POSITIONS)


def _random_pattern(rng: random.Random, depth: int = 0) -> str:
    """Atoms, groups of alternatives, lookarounds and repeats, nested twice at most."""
    parts = []
    for _ in range(rng.randint(1, 4)):
        if depth < 2 and rng.random() < 0.3:
            branches = "|".join(_random_pattern(rng, depth + 1) for _ in range(rng.randint(1, 3)))
            part = rng.choice(["(?:{})", "({})", "(?={})", "(?!{})", "(?<=a)"]).format(branches)
        else:
            part = rng.choice(ATOMS)
        repeatable = part not in POSITIONS and not part.startswith("(?<")
        if repeatable and rng.random() < 0.3:
            part = f"(?:{part})" + rng.choice(["?", "*", "+", "{1,2}", "{2}", "??"])
        parts.append(part)
    return "".join(parts)


def test_anchors_are_sound_on_random_patterns() -> None:
    rng = random.Random(20261207)
    texts = ["".join(rng.choice("abc .1") for _ in range(rng.randint(0, 12))) for _ in range(300)]
    keys = [
        {word[:size] for word in re.findall("[a-z]+", text) for size in range(1, KEY + 1)}
        for text in texts
    ]
    checked = 0
    for _ in range(3000):
        pattern = _random_pattern(rng)
        found = anchors(pattern)
        if found is None:
            continue
        compiled = re.compile(pattern)
        for text, text_keys in zip(texts, keys, strict=True):
            if compiled.search(text):
                checked += 1
                assert found & text_keys, (pattern, text, found)
    assert checked > 1500
