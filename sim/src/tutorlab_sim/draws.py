"""Deterministic draws: seeded hashes that make every choice repeatable for a seed."""

from __future__ import annotations

from collections import OrderedDict
from hashlib import blake2b

_SCALE = float(1 << 64)


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of ``parts`` that is the same in every process (unlike ``hash``)."""
    text = "\x1f".join(map(str, parts)).encode("utf-8", "surrogatepass")
    return int.from_bytes(blake2b(text, digest_size=8).digest(), "big")


def unit(*parts: object) -> float:
    """A number in [0, 1), uniform over ``parts``, the same in every process."""
    return stable_hash(*parts) / _SCALE


class SplitRanks:
    """Each item's rank in a seeded hash permutation of its split, cached per seed pair.

    An item is answered correctly iff its rank < round(accuracy × split size), so a whole split
    is answered correctly at exactly the configured accuracy (rounded to a whole item).
    """

    def __init__(self, split_ids: dict[str, tuple[str, ...]], max_cached: int = 64) -> None:
        self._split_ids = split_ids
        self._cache: OrderedDict[tuple[str, int, int], list[int]] = OrderedDict()
        self._max_cached = max_cached

    def size(self, split_key: str) -> int:
        return len(self._split_ids.get(split_key, ()))

    def rank(self, split_key: str, split_pos: int, seed: int, request_seed: int) -> int:
        key = (split_key, seed, request_seed)
        ranks = self._cache.get(key)
        if ranks is None:
            ranks = self._compute(*key)
            self._cache[key] = ranks
            if len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return ranks[split_pos]

    def is_correct(
        self, split_key: str, split_pos: int, seed: int, request_seed: int, accuracy: float
    ) -> bool:
        quota = round(accuracy * self.size(split_key))
        return self.rank(split_key, split_pos, seed, request_seed) < quota

    def _compute(self, split_key: str, seed: int, request_seed: int) -> list[int]:
        ids = self._split_ids[split_key]
        keys = [stable_hash("rank", seed, request_seed, item_id) for item_id in ids]
        order = sorted(range(len(ids)), key=lambda pos: (keys[pos], pos))
        ranks = [0] * len(ids)
        for rank, pos in enumerate(order):
            ranks[pos] = rank
        return ranks
