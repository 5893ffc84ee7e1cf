"""Qwen3 tokenisation without the Rust tokenizer's slowest stage, for whole training sets.

On a 2-core machine the tokenizer spends most of its time in its pre-tokenizer's regex
(Oniguruma). This module runs the same regex in Python's ``regex`` (several times faster here),
then byte-pair encodes each distinct piece once with the tokenizer's own BPE model and caches
it: training text repeats its words, so after the first thousand examples nearly every piece is a
dictionary hit.

The tokenizer's pipeline, stage by stage, and what stands in for it:

1. added tokens (``<|im_start|>``, ``<think>`` …) are cut out of the raw text: a regex over the
   tokenizer's own added tokens, longest first (leftmost-longest, like its matcher);
2. each stretch between them is normalised (NFC): :func:`unicodedata.normalize`;
3. split into pieces by the pre-tokenizer regex: the same pattern, read from the tokenizer;
4. each piece's UTF-8 bytes mapped to byte-level characters and BPE-encoded:
   the tokenizer's ``model.tokenize``, once per distinct piece.

:meth:`PieceEncoder.for_tokenizer` returns None unless the tokenizer is built exactly this way
(the Qwen2/Qwen3 ``tokenizer.json``), so anything else goes through the tokenizer. A text with a
character Python's Unicode database does not know is left to the tokenizer too (its tables may
be newer); for every other character the normalisation is stable across Unicode versions, and the
tests compare the split with the tokenizer's over every assigned code point in many contexts.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import regex

#: Qwen2/Qwen3's pre-tokenizer pattern, the one this module was checked against
QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
    r"\s*[\r\n]+|\s+(?!\S)|\s+"
)
#: distinct pieces kept before the cache starts over (a few hundred bytes each)
_PIECE_LIMIT = 500_000


def _byte_chars() -> list[str]:
    """GPT-2's byte-level alphabet: byte value → the character BPE sees for it."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


_BYTE_CHARS = _byte_chars()


def _state(component: Any) -> dict[str, Any] | None:
    """A tokenizer component's own JSON description (what ``tokenizer.json`` holds)."""
    if component is None:
        return None
    state = json.loads(component.__getstate__())
    return state if isinstance(state, dict) else None


def _mirrors(backend: Any) -> bool:
    """Whether ``backend`` (a ``tokenizers.Tokenizer``) is built the way this module mirrors."""
    pre = _state(backend.pre_tokenizer) or {}
    steps = pre.get("pretokenizers") or []
    if pre.get("type") != "Sequence" or len(steps) != 2:
        return False
    split, byte_level = steps
    if split != {
        "type": "Split",
        "pattern": {"Regex": QWEN_PATTERN},
        "behavior": "Isolated",
        "invert": False,
    }:
        return False
    if byte_level.get("type") != "ByteLevel" or byte_level.get("add_prefix_space"):
        return False
    if byte_level.get("use_regex") or _state(backend.normalizer) != {"type": "NFC"}:
        return False
    model = backend.model
    if type(model).__name__ != "BPE" or model.dropout is not None or model.byte_fallback:
        return False
    if model.continuing_subword_prefix or model.end_of_word_suffix:
        return False
    added = backend.get_added_tokens_decoder().values()
    stripping = any(t.lstrip or t.rstrip or t.single_word or t.normalized for t in added)
    return not stripping and not backend.encode_special_tokens


class _Pieces(dict[str, list[int]]):
    """piece → token ids; a missing piece is BPE-encoded by the tokenizer's model and kept."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self._model = model

    def __missing__(self, piece: str) -> list[int]:
        if len(self) > _PIECE_LIMIT:
            self.clear()
        mapped = "".join([_BYTE_CHARS[b] for b in piece.encode()])
        ids = [token.id for token in self._model.tokenize(mapped)]
        self[piece] = ids
        return ids


class PieceEncoder:
    """Encodes text as its tokenizer would (no special tokens added), caching pieces."""

    def __init__(self, backend: Any) -> None:
        added = {t.content: i for i, t in backend.get_added_tokens_decoder().items()}
        self._added = added
        self._added_re = regex.compile(
            "|".join(regex.escape(t) for t in sorted(added, key=len, reverse=True))
        )
        self._added_starts = frozenset(t[0] for t in added)
        self._split = regex.compile(QWEN_PATTERN).findall
        self._pieces = _Pieces(backend.model)
        self._known: set[str] = {chr(c) for c in range(128)}

    @classmethod
    def for_tokenizer(cls, backend: Any) -> PieceEncoder | None:
        """An encoder for a ``tokenizers.Tokenizer`` built like Qwen3's, else None."""
        return cls(backend) if backend is not None and _mirrors(backend) else None

    def encode(self, text: str) -> list[int] | None:
        """The token ids of ``text``, or None when the tokenizer itself must encode it."""
        if not self._known.issuperset(text) and not self._learn(text):
            return None
        if self._added_starts.isdisjoint(text):
            return self._plain(text)
        ids: list[int] = []
        start = 0
        for match in self._added_re.finditer(text):
            if match.start() > start:
                ids += self._plain(text[start : match.start()])
            ids.append(self._added[match.group()])
            start = match.end()
        if start < len(text):
            ids += self._plain(text[start:])
        return ids

    def _plain(self, text: str) -> list[int]:
        get = self._pieces.__getitem__
        return [i for piece in self._split(unicodedata.normalize("NFC", text)) for i in get(piece)]

    def _learn(self, text: str) -> bool:
        """Whether every new character of ``text`` is assigned in Python's Unicode database."""
        new = set(text) - self._known
        if any(unicodedata.category(c) in ("Cn", "Cs") for c in new):
            return False
        self._known |= new
        return True
