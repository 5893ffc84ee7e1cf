"""Read benchmark records straight from a mirror directory (the openai/grade-school-math and
MATH release files). The data-service imports through ``datasets``; this is the fast path the
eval uses when no data-service is there."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from tutorlab.datasets.records import DATASET_SPLITS, DatasetRecord, gsm8k_record, math_record


class MirrorError(Exception):
    pass


def _read_jsonl(path: Path, digest: hashlib._Hash) -> list[dict[str, Any]]:
    if not path.is_file():
        raise MirrorError(f"mirror file {path} not found")
    rows = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            digest.update(line)
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise MirrorError(f"{path}:{number}: not JSON ({exc.msg})") from exc
    return rows


def load_mirror(mirror: Path, name: str, split: str) -> tuple[list[DatasetRecord], str]:
    """Records of one dataset split and the sha256 of the file(s) they came from.

    Memoized per process on the files' identity (path, size, mtime): a worker running many
    jobs parses a split once, and a changed file is read again.
    """
    if split not in DATASET_SPLITS.get(name, ()):
        raise MirrorError(f"unknown dataset split {name}/{split}")
    identity = tuple(
        (str(p), p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else (str(p), None, None)
        for p in _files(mirror, name, split)
    )
    return _load_mirror(mirror, name, split, identity)


def _files(mirror: Path, name: str, split: str) -> list[Path]:
    if name == "gsm8k":
        return [mirror / "gsm8k" / f"{split}.jsonl", mirror / "gsm8k" / "test_socratic.jsonl"]
    files = [mirror / "math" / f"{'test' if name == 'math500' else split}.jsonl"]
    return files + ([mirror / "math" / "math500_ids.txt"] if name == "math500" else [])


@functools.lru_cache(maxsize=16)
def _load_mirror(
    mirror: Path, name: str, split: str, identity: tuple[object, ...]
) -> tuple[list[DatasetRecord], str]:
    if split not in DATASET_SPLITS.get(name, ()):
        raise MirrorError(f"unknown dataset split {name}/{split}")
    digest = hashlib.sha256()
    if name == "gsm8k":
        rows = _read_jsonl(mirror / "gsm8k" / f"{split}.jsonl", digest)
        socratic: list[dict[str, Any]] = []
        if split == "test" and (mirror / "gsm8k" / "test_socratic.jsonl").is_file():
            socratic = _read_jsonl(mirror / "gsm8k" / "test_socratic.jsonl", digest)
        records = [
            gsm8k_record(
                i,
                split,
                row["question"],
                row["answer"],
                socratic[i]["answer"] if i < len(socratic) else None,
            )
            for i, row in enumerate(rows)
        ]
        return records, digest.hexdigest()
    rows = _read_jsonl(mirror / "math" / f"{'test' if name == 'math500' else split}.jsonl", digest)
    if name == "math500":
        ids_path = mirror / "math" / "math500_ids.txt"
        if not ids_path.is_file():
            raise MirrorError(f"mirror file {ids_path} not found")
        ids_bytes = ids_path.read_bytes()
        digest.update(ids_bytes)
        wanted = {line.strip() for line in ids_bytes.decode().splitlines() if line.strip()}
        rows = [row for row in rows if row["unique_id"] in wanted]
    return [math_record(row, dataset=name) for row in rows], digest.hexdigest()
