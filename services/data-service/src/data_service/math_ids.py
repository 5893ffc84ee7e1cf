"""The MATH release's own ids for the hub's MATH test rows.

EleutherAI/hendrycks_math has no ``unique_id``; the mirror (the original release) names each
problem by its file, ``test/algebra/1.json``, and everything downstream keys on those ids: the
tutoring evaluation set's ``source_id``, MATH-500's id list, a benchmark's items and its seeded
sample. :data:`MAP_FILE` maps a fingerprint of each test problem's text (sha256 of the
whitespace-collapsed problem, first 12 hex digits) to its file number, per subject: a hub row
whose text matches gets the original id, so a hub import and a mirror import give the same ids
in the same order. It holds no dataset text; ``python -m data_service.math_ids MIRROR``
re-creates it from a mirror's ``math/test.jsonl``.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path

MAP_FILE = Path(__file__).with_name("math_test_ids.json.gz")
#: the split the map covers (train rows keep ``train/<subject>/hub-<n>`` ids)
SPLIT = "test"


def fingerprint(problem: str) -> str:
    return hashlib.sha256(" ".join(problem.split()).encode()).hexdigest()[:12]


@functools.cache
def _map() -> dict[str, dict[str, int]]:
    loaded: dict[str, dict[str, int]] = json.loads(gzip.decompress(MAP_FILE.read_bytes()))
    return loaded


def original_id(split: str, subject: str, problem: str) -> str | None:
    """``test/<subject>/<n>.json`` for a known test problem of that subject, else None."""
    if split != SPLIT:
        return None
    number = _map().get(subject, {}).get(fingerprint(problem))
    return None if number is None else f"{split}/{subject}/{number}.json"


def order_key(unique_id: str) -> tuple[str, int, str]:
    """The mirror's order: by subject, then by file number (``hub-<n>`` ids after the known)."""
    _, subject, name = [*unique_id.split("/", 2), "", ""][:3]
    stem = name.removesuffix(".json")
    if stem.isdigit():
        return subject, int(stem), ""
    return subject, sys.maxsize, stem


def build_map(rows: Iterable[dict[str, str]]) -> dict[str, dict[str, int]]:
    """The map from mirror rows (``unique_id``, ``problem``) of the test split."""
    built: dict[str, dict[str, int]] = {}
    for row in rows:
        split, subject, name = row["unique_id"].split("/")
        if split == SPLIT:
            built.setdefault(subject, {})[fingerprint(row["problem"])] = int(name[:-5])
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="re-create the MATH test id map from a mirror")
    parser.add_argument("mirror", type=Path, help="a directory with math/test.jsonl")
    args = parser.parse_args(argv)
    with (args.mirror / "math" / "test.jsonl").open(encoding="utf-8") as handle:
        built = build_map(json.loads(line) for line in handle if line.strip())
    data = json.dumps(built, separators=(",", ":"), sort_keys=True).encode()
    MAP_FILE.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{MAP_FILE}: {sum(map(len, built.values()))} problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
