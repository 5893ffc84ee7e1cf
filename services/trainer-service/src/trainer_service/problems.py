"""Verifiable problems for RLVR and the in-training evaluation slice.

GSM8K and MATH come from the dataset mirror when one is configured (the same files the eval
reads), else from the data-service's imported datasets over REST; a JSONL file of
``{question, answer, kind?, mode?, grade?, id?}`` lines is the third source.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from tutorlab.datasets.mirror import MirrorError, load_mirror
from tutorlab.datasets.records import DatasetRecord

from trainer_service.rewards import Problem


class ProblemSourceError(Exception):
    """The problems could not be loaded; the message says from where and why."""


def _as_problem(record: DatasetRecord, mode: str = "solve") -> Problem | None:
    if not record.answer:
        return None
    kind = "gsm8k" if record.dataset == "gsm8k" else "math"
    return Problem(
        id=record.id,
        question=record.question,
        answer=record.answer,
        kind=kind,  # type: ignore[arg-type]
        mode=mode,  # type: ignore[arg-type]
    )


async def _from_data_service(
    http: httpx.AsyncClient, base_url: str, name: str, split: str
) -> list[DatasetRecord]:
    records: list[DatasetRecord] = []
    offset = 0
    while True:
        try:
            response = await http.get(
                f"{base_url}/datasets/{name}/{split}/items",
                params={"offset": offset, "limit": 500},
            )
        except httpx.HTTPError as exc:
            raise ProblemSourceError(f"data-service unreachable at {base_url}: {exc}") from exc
        if response.status_code == 404:
            raise ProblemSourceError(
                f"{name}/{split} is neither in the dataset mirror nor imported in the "
                "data-service (POST /datasets/download)"
            )
        if response.status_code >= 400:
            raise ProblemSourceError(
                f"data-service answered {response.status_code} for {name}/{split}"
            )
        page = response.json()
        records.extend(DatasetRecord.model_validate(item) for item in page["items"])
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return records


async def load_dataset_problems(
    name: str,
    split: str,
    *,
    mirror: Path | None,
    http: httpx.AsyncClient,
    data_service_url: str,
) -> list[Problem]:
    """Every problem of a dataset split that has a gold answer, in the dataset's order."""
    if mirror is not None:
        try:
            records, _ = load_mirror(mirror, name, split)
        except MirrorError as exc:
            raise ProblemSourceError(str(exc)) from exc
    else:
        records = await _from_data_service(http, data_service_url, name, split)
    return [p for p in (_as_problem(r) for r in records) if p is not None]


def parse_problem_lines(lines: Sequence[str], source: str) -> list[Problem]:
    """Problems from JSONL lines; a bad line is an error naming it."""
    problems: list[Problem] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ProblemSourceError(f"{source}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise ProblemSourceError(f"{source}:{number}: expected a JSON object")
        question = row.get("question") or row.get("problem")
        answer = row.get("answer")
        if not isinstance(question, str) or not isinstance(answer, str | int | float):
            raise ProblemSourceError(
                f"{source}:{number}: needs 'question' (text) and 'answer' (the gold final answer)"
            )
        kind = row.get("kind", "gsm8k")
        mode = row.get("mode", "solve")
        if kind not in ("gsm8k", "math") or mode not in ("solve", "hint"):
            raise ProblemSourceError(
                f"{source}:{number}: kind must be gsm8k|math and mode solve|hint"
            )
        grade = row.get("grade", 6)
        problems.append(
            Problem(
                id=str(row.get("id", f"line-{number}")),
                question=question,
                answer=str(answer),
                kind=kind,
                mode=mode,
                grade=int(grade) if str(grade).isdigit() else 6,
            )
        )
    return problems


def sample_slice(problems: Sequence[Problem], count: int, seed: int) -> list[Problem]:
    """A fixed, seeded slice (the same items at every evaluation of a run)."""
    if count >= len(problems):
        return list(problems)
    return random.Random(seed).sample(list(problems), count)
