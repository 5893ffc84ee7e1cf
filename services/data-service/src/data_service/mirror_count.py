"""Job ``count_rows``: count a mirror dataset file's rows and checksum it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from tutorlab.jobs.runtime import JobContext

MIRROR_FILES: dict[tuple[str, str], str] = {
    ("gsm8k", "train"): "gsm8k/train.jsonl",
    ("gsm8k", "test"): "gsm8k/test.jsonl",
    ("gsm8k", "test_socratic"): "gsm8k/test_socratic.jsonl",
    ("math", "train"): "math/train.jsonl",
    ("math", "test"): "math/test.jsonl",
}


class CountRowsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: Literal["gsm8k", "math"]
    split: Literal["train", "test", "test_socratic"] = "test"


async def count_rows(ctx: JobContext) -> dict[str, Any]:
    params: CountRowsParams = ctx.params
    mirror: Path | None = ctx.resources["settings"].dataset_mirror
    if mirror is None:
        raise ValueError("TUTORLAB_DATASET_MIRROR is not set: no mirror directory to read")
    relative = MIRROR_FILES.get((params.dataset, params.split))
    if relative is None:
        raise ValueError(f"{params.dataset} has no split {params.split!r}")
    path = Path(mirror) / relative
    if not path.is_file():
        raise FileNotFoundError(f"mirror file {path} not found")
    digest = hashlib.sha256()
    rows = 0
    with path.open("rb") as handle:
        for line in handle:
            digest.update(line)
            if line.strip():
                rows += 1
                if rows % 1000 == 0:
                    await ctx.progress(rows)
    await ctx.progress(rows, rows)
    return {
        "dataset": params.dataset,
        "split": params.split,
        "rows": rows,
        "sha256": digest.hexdigest(),
    }
