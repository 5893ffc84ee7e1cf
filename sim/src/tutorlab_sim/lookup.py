"""Find a known question inside a chat message, even when a prompt template wraps it.

Text is normalized to lower-case word tokens joined by one space. Every question is indexed by its
first ``PREFIX_TOKENS`` tokens (all of them when shorter); a message is scanned once, probing the
index at each word start, and each hit is confirmed against the whole normalized question. The cost
is linear in the message length (times the small, fixed prefix length).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tutorlab_sim.mirror import Item, Mirror

PREFIX_TOKENS = 8
#: a question cut or altered by a template still matches when this share of it matches as a prefix
PARTIAL_MATCH_SHARE = 0.6

_WORD = re.compile(r"[^\W_]+|[-+*/=^<>()|!]")


def normalize(text: str) -> str:
    """Lower-case word tokens joined by single spaces (punctuation, LaTeX symbols dropped)."""
    return " ".join(_WORD.findall(text.lower()))


def _shared_prefix(question: str, text: str, start: int) -> int:
    """How many leading characters of ``question`` equal ``text`` from ``start`` on."""
    limit = min(len(question), len(text) - start)
    size = 0
    while size < limit and question[size] == text[start + size]:
        size += 1
    return size


class QuestionIndex:
    """Maps messages to the known question they contain."""

    def __init__(self, items: Sequence[Item]) -> None:
        self._items = items
        self._norm: list[str] = []
        self._by_prefix: dict[str, list[int]] = {}
        lengths: set[int] = set()
        seen: set[str] = set()
        for item in items:
            tokens = _WORD.findall(item.question.lower())
            norm = " ".join(tokens)
            self._norm.append(norm)
            if not tokens or norm in seen:
                continue  # an exact duplicate resolves to its first (test before train) copy
            seen.add(norm)
            size = min(len(tokens), PREFIX_TOKENS)
            lengths.add(size)
            self._by_prefix.setdefault(" ".join(tokens[:size]), []).append(item.index)
        #: prefix lengths to probe at each word start, longest first
        self._lengths = sorted(lengths, reverse=True)

    def __len__(self) -> int:
        return len(self._items)

    def find(self, text: str) -> Item | None:
        """The known question in ``text``: the complete match ending last (longest on a tie);
        failing any complete match, the candidate sharing the longest prefix with the text."""
        if not self._by_prefix:
            return None
        tokens = _WORD.findall(text.lower())
        if not tokens:
            return None
        norm = " ".join(tokens)
        starts: list[int] = []
        pos = 0
        for token in tokens:
            starts.append(pos)
            pos += len(token) + 1
        ends = [start + len(token) for start, token in zip(starts, tokens, strict=True)]
        count = len(tokens)
        best: tuple[int, int, int] | None = None  # (end, length, -item index)
        partial: tuple[float, int] | None = None  # (share, -item index)
        for i, start in enumerate(starts):
            for size in self._lengths:
                if i + size > count:
                    continue
                candidates = self._by_prefix.get(norm[start : ends[i + size - 1]])
                if candidates is None:
                    continue
                for index in candidates:
                    question = self._norm[index]
                    end = start + len(question)
                    if norm.startswith(question, start) and (end == len(norm) or norm[end] == " "):
                        key = (end, len(question), -index)
                        if best is None or key > best:
                            best = key
                    elif best is None:
                        shared = _shared_prefix(question, norm, start)
                        share = shared / len(question)
                        if share >= PARTIAL_MATCH_SHARE and (
                            partial is None or (share, -index) > partial
                        ):
                            partial = (share, -index)
        if best is not None:
            return self._items[-best[2]]
        if partial is not None:
            return self._items[-partial[1]]
        return None


_MAX_INDEXES = 4
_INDEXES: dict[int, tuple[Mirror, QuestionIndex]] = {}


def index_for(mirror: Mirror) -> QuestionIndex:
    """The index of ``mirror``'s questions, built once per loaded mirror."""
    entry = _INDEXES.get(id(mirror))
    if entry is None or entry[0] is not mirror:
        if len(_INDEXES) >= _MAX_INDEXES:
            _INDEXES.clear()
        entry = (mirror, QuestionIndex(mirror.items))
        _INDEXES[id(mirror)] = entry
    return entry[1]
